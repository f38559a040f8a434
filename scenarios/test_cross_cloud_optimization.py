"""Cross-cloud optimization: the cost agent compares the fleet with equivalent GCP and Azure
instance types from the price catalogue and proposes a move only when the savings exceed the
egress it adds and the amortised migration. Approving yields a migration plan, not an
execution: only AWS is simulated.

The scenario redoes the arithmetic from the catalogue (GET /api/v1/catalogue) and the fleet.

What this catches: a catalogue without sources or dates for the other clouds, a move
proposed on compute savings alone (egress or migration left out), the wrong equivalent
picked, a pool proposed when the move does not pay, a disallowed cloud considered, and an
approval that touches the AWS fleet instead of producing a plan.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    CataloguePublic,
    assert_optimization_successful,
    customer_instances,
    wait_for_condition,
    wait_for_optimization_complete,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

CLOUDS = ["aws", "gcp", "azure"]


def expected_moves(catalogue: CataloguePublic, pools: dict[str, tuple[str, int]], region: str,
                   clouds: list[str]) -> dict[str, dict]:
    """The catalogue's arithmetic, done here: best equivalent and net savings per pool."""
    cc = catalogue.cross_cloud
    out = {}
    for pool, (itype, n) in pools.items():
        options = [e for e in cc.equivalents[region][itype] if e.cloud in clouds]
        best = min(options, key=lambda e: (e.on_demand, e.cloud))
        here = catalogue.regions[region][itype].on_demand
        compute = round((here - best.on_demand) * n * catalogue.hours_per_month, 2)
        egress = round(n * cc.egress_gb_per_instance_month * cc.egress_per_gb, 2)
        migration = round(n * cc.migration_cost_per_instance / cc.amortisation_months, 2)
        out[pool] = {"to_cloud": best.cloud, "to_instance_type": best.instance_type,
                     "compute_savings": compute, "egress_monthly": egress,
                     "migration_monthly": migration,
                     "net_monthly_savings": round(compute - egress - migration, 2)}
    return out


def finished_analysis(client, aid: str):
    a = wait_for_condition(
        lambda: (lambda x: x if x.status in ("completed", "failed") else None)(
            client.get_analysis(aid)), timeout=60, interval=0.5,
        description=f"analysis {aid}")
    assert a.status == "completed", f"analysis {aid} {a.status}: {a.error}"
    return a


@pytest.mark.req("REQ-CLOUD-01", "REQ-CLOUD-02")
def test_cross_cloud_move_only_when_it_pays(test_customer, test_infrastructure, ws_client,
                                            ec2, narrative):
    client = test_customer.client
    region = test_infrastructure.spec.region
    pools = {p.name: (p.instance_type, p.count) for p in test_infrastructure.spec.pools}
    narrative.banner("CROSS-CLOUD OPTIMIZATION")

    with phase(1, "The catalogue carries GCP and Azure equivalents, with sources and dates"):
        catalogue = client.catalogue()
        cc = catalogue.cross_cloud
        for key in ("gcp", "azure", "egress"):
            assert cc.sources[key].source and cc.sources[key].as_of, key
        for itype, _ in pools.values():
            clouds = {e.cloud for e in cc.equivalents[region][itype]}
            assert clouds == {"gcp", "azure"}, f"{itype}: equivalents on {clouds}"
        cost_before = client.get_costs().monthly_cost
        say(f"GCP prices as of {cc.sources['gcp'].as_of}, Azure as of "
            f"{cc.sources['azure'].as_of}; egress ${cc.egress_per_gb}/GB; migration "
            f"${cc.migration_cost_per_instance:,.0f}/instance over "
            f"{cc.amortisation_months} months")

    with phase(2, "A cost analysis that may look at GCP and Azure"):
        analysis = finished_analysis(client, client.start_analysis("cost", CLOUDS).id)
        got = {m["pool"]: m for m in analysis.results["cost"]["cross_cloud"]}
        want = expected_moves(catalogue, pools, region, ["gcp", "azure"])
        assert sorted(got) == sorted(pools), f"evaluated pools {sorted(got)}"
        for pool, w in want.items():
            g = {k: got[pool][k] for k in w}
            assert all(abs(g[k] - w[k]) <= 0.01 if isinstance(w[k], float) else g[k] == w[k]
                       for k in w), f"{pool}: platform {g}\n  catalogue {w}"
            assert got[pool]["worth_it"] == (w["net_monthly_savings"] > 0), got[pool]
            say(f"{pool}: {pools[pool][1]} x {pools[pool][0]} -> {w['to_cloud']} "
                f"{w['to_instance_type']}: ${w['compute_savings']:,.2f} - egress "
                f"${w['egress_monthly']:,.2f} - migration ${w['migration_monthly']:,.2f} = "
                f"${w['net_monthly_savings']:,.2f}/month")
        paying = sorted(p for p, w in want.items() if w["net_monthly_savings"] > 0)
        assert paying == ["inference"], f"the catalogue makes {paying} pay"
        assert 0 < want["inference"]["net_monthly_savings"] < \
            want["inference"]["compute_savings"], want["inference"]

    with phase(3, "Only the move that pays is proposed"):
        rec = wait_for_recommendation(client, kind="cross_cloud_migration", timeout=30,
                                      events=ws_client)
        recs = client.list_recommendations(kind="cross_cloud_migration").data
        assert [r.id for r in recs] == [rec.id], [r.details["pools"] for r in recs]
        move = rec.details["move"]
        assert rec.details["pools"] == ["inference"] and move["to_cloud"] == "gcp", move
        assert abs(rec.estimated_monthly_savings - want["inference"]["net_monthly_savings"]) \
            <= 0.01, (rec.estimated_monthly_savings, want["inference"])
        say(f"Recommendation {rec.id}: ${rec.estimated_monthly_savings:,.2f}/month net")

    with phase(4, "Restricted to Azure, nothing pays"):
        azure = finished_analysis(client, client.start_analysis("cost", ["aws", "azure"]).id)
        moves = {m["pool"]: m for m in azure.results["cost"]["cross_cloud"]}
        want_az = expected_moves(catalogue, pools, region, ["azure"])
        assert all(m["to_cloud"] == "azure" and not m["worth_it"] for m in moves.values()), \
            moves
        assert len(client.list_recommendations(kind="cross_cloud_migration").data) == 1
        say("Azure: " + "; ".join(f"{p} net ${w['net_monthly_savings']:,.2f}"
                                  for p, w in want_az.items()))

    with phase(5, "Approval yields a migration plan, not an execution"):
        rec = wait_for_validation(client, rec.id, min_agents=2, timeout=60, events=ws_client)
        assert rec.status == "validated", [(v.agent, v.reason) for v in rec.validations]
        opt = wait_for_optimization_complete(
            client, client.approve_recommendation(rec.id).optimization_id, timeout=60,
            events=ws_client)
        assert_optimization_successful(opt, required_traffic=(0,))
        (step,) = opt.steps
        detail = step.detail
        plan = detail.get("plan", {})
        assert step.name == "migration_plan" and detail.get("executed") is False, detail
        assert plan["moves"][0]["to_instance_type"] == move["to_instance_type"] and \
            abs(plan["expected_monthly_cost_change"] + rec.estimated_monthly_savings) <= 0.01, \
            plan
        fleet = customer_instances(ec2, test_customer.id)
        assert len(fleet) == test_infrastructure.spec.size and not any(
            i.get("InstanceLifecycle") == "spot" for i in fleet), "the AWS fleet changed"
        cost_after = client.get_costs().monthly_cost
        assert abs(cost_after - cost_before) <= 0.01 and opt.actual_monthly_savings == 0, \
            (cost_before, cost_after, opt.actual_monthly_savings)
        say(f"Plan: {plan['moves'][0]['instances']} x {plan['moves'][0]['from_instance_type']}"
            f" -> {plan['moves'][0]['to_cloud']} {plan['moves'][0]['to_instance_type']}, "
            f"expected {plan['expected_monthly_cost_change']:+,.2f}/month, one-time "
            f"${plan['one_time_cost']:,.0f}; AWS fleet and bill unchanged")
        spot = client.list_recommendations(kind="spot_migration").data
        assert spot and all(r.status == "superseded" and rec.id in (r.reason or "")
                            for r in spot), [(r.status, r.reason) for r in spot]
        say(f"The spot migration of the same pools was superseded: {spot[0].reason}")

    narrative.banner("CROSS-CLOUD OPTIMIZATION PASSED")
