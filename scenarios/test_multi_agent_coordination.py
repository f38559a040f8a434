"""A full analysis: all four agents report findings, the orchestrator merges them, the cost
agent's proposal is validated by all four, and the events show the hand-offs in order.

What this catches: a full analysis that skips an agent, an analysis that completes before
every agent reported (its late findings are then lost), merged findings that drop an agent or
misattribute a finding, findings whose numbers are not the fleet's (cost vs the catalogue,
latency vs ClickHouse), a recommendation created twice, and a verdict reached before the last
required validation.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    assert_multi_agent_coordination,
    wait_for_condition,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

AGENTS = ("cost", "performance", "resource", "application")
THRESHOLD = 0.90


def clickhouse_p95(clickhouse, customer_id: str, window_s: int = 120) -> dict[str, float]:
    rows = clickhouse.execute(
        "SELECT pool, avg(latency_p95_ms) FROM workload_metrics WHERE customer_id = %(c)s "
        "AND ts >= now() - %(w)s AND throughput_rps > 0 GROUP BY pool",
        {"c": customer_id, "w": window_s})
    return {pool: round(v, 2) for pool, v in rows}


@pytest.mark.req("REQ-MULTI-01", "REQ-MULTI-02", "REQ-EVENT-02")
def test_full_analysis_engages_all_four_agents(test_customer, test_infrastructure,
                                               baseline_metrics, ws_client, clickhouse,
                                               narrative):
    client = test_customer.client
    pools = sorted(p.name for p in test_infrastructure.spec.pools)
    narrative.banner("MULTI-AGENT COORDINATION: A FULL ANALYSIS")

    with phase(1, "Fleet serving, full analysis requested"):
        # every pool must be serving (the simulator picks new instances up within seconds)
        wait_for_condition(lambda: sorted(clickhouse_p95(clickhouse, test_customer.id, 30))
                           == pools, timeout=30, interval=1,
                           description=f"samples of every pool {pools} in ClickHouse")
        cost = client.get_costs().monthly_cost
        analysis = client.start_analysis("full")
        say(f"Fleet of {test_infrastructure.spec.size} in pools {pools}, ${cost:,.0f}/month; "
            f"baseline p95 {baseline_metrics.latency_p95_ms} ms")
        say(f"Analysis {analysis.id}")

    with phase(2, "Every agent reports, then the analysis completes"):
        done = wait_for_condition(
            lambda: (lambda a: a if a.status in ("completed", "failed") else None)(
                client.get_analysis(analysis.id)),
            timeout=60, interval=0.5, events=ws_client,
            description=f"analysis {analysis.id} to finish")
        assert done.status == "completed", f"analysis {done.status}: {done.error}"
        assert sorted(done.agents) == sorted(AGENTS), f"agents engaged: {done.agents}"
        errors = {a: r["error"] for a, r in done.results.items() if "error" in r}
        assert set(done.results) == set(AGENTS) and not errors, \
            f"results from {sorted(done.results)}, errors {errors}"
        say(f"Agents engaged: {', '.join(done.agents)}")

    with phase(3, "The merged findings carry every agent's numbers"):
        by_agent: dict[str, list[dict]] = {}
        for f in done.findings:
            by_agent.setdefault(f["agent"], []).append(f)
        assert set(by_agent) == set(AGENTS), f"findings only from {sorted(by_agent)}"
        order = [f["agent"] for f in done.findings]
        assert order == sorted(order, key=list(done.agents).index), \
            f"findings not merged in agent order: {order}"

        costs = {f["pool"]: f["value"] for f in by_agent["cost"]}
        assert sorted(costs) == pools, f"cost findings for {sorted(costs)}, fleet has {pools}"
        assert abs(sum(costs.values()) - cost) <= 1.0, \
            f"cost findings add up to ${sum(costs.values()):,.2f}, /costs says ${cost:,.2f}"
        say(f"cost: per pool {costs} (sum ${sum(costs.values()):,.2f} = /costs)")

        p95 = {f["pool"]: f["value"] for f in by_agent["performance"]}
        measured = clickhouse_p95(clickhouse, test_customer.id)
        assert sorted(p95) == pools, f"performance findings for {sorted(p95)}"
        for pool in pools:
            assert abs(p95[pool] - measured[pool]) <= 0.15 * measured[pool], \
                f"{pool}: agent p95 {p95[pool]} ms, ClickHouse {measured[pool]} ms"
        gpu, cpu = "inference", "api"  # g5 serves slower than m5 in the simulator
        assert p95[gpu] > p95[cpu], f"GPU pool p95 {p95[gpu]} <= CPU pool {p95[cpu]}"
        say(f"performance: p95 {p95} ms (ClickHouse {measured})")

        util = {f["pool"]: f["value"] for f in by_agent["resource"]}
        assert sorted(util) == pools and all(0 < u <= 0.85 for u in util.values()), util
        say(f"resource: utilisation {util}")

        (quality,) = by_agent["application"]
        assert quality["threshold"] == THRESHOLD and quality["value"] >= THRESHOLD, quality
        assert abs(quality["value"] - baseline_metrics.quality_score) <= 0.01, \
            (quality, baseline_metrics.quality_score)
        say(f"application: quality {quality['value']} >= {THRESHOLD}")

    with phase(4, "One proposal, validated by all four agents"):
        assert len(done.recommendation_ids) == 1, \
            f"expected one recommendation, got {done.recommendation_ids}"
        rec = wait_for_validation(client, done.recommendation_ids[0], min_agents=4,
                                  timeout=120, events=ws_client)
        assert rec.kind == "spot_migration" and rec.status == "validated", \
            f"{rec.kind} is '{rec.status}': {[(v.agent, v.reason) for v in rec.validations]}"
        agents = assert_multi_agent_coordination(rec, min_agents=4)
        reasons = {v.agent: v.reason for v in rec.validations}
        assert "re-priced" in reasons.get("cost", ""), reasons
        say(f"{len(agents)} agents approved: " + "; ".join(f"{a}: {reasons[a]}"
                                                          for a in sorted(agents)))

    with phase(5, "The events show the hand-offs in order"):
        ws_client.wait_for_event("recommendation.validated", lambda e: e.entity_id == rec.id,
                                 timeout=30)
        events = ws_client.snapshot()

        def at(type_: str, entity: str, **match: object) -> list[int]:
            return [i for i, e in enumerate(events) if e.type == type_
                    and e.entity_id == entity
                    and all(e.data.get(k) == v for k, v in match.items())]

        created, completed = at("analysis.created", analysis.id), \
            at("analysis.completed", analysis.id)
        reports = {a: at("analysis.agent_reported", analysis.id, agent=a) for a in AGENTS}
        timeline = ws_client.timeline()
        assert len(created) == 1 and len(completed) == 1, timeline
        assert all(len(ix) == 1 for ix in reports.values()), f"reports {reports}\n{timeline}"
        last_report = max(ix[0] for ix in reports.values())
        assert created[0] < min(ix[0] for ix in reports.values()) and \
            last_report < completed[0], \
            f"expected created < 4 agent reports < completed\n{timeline}"
        cost_report = events[reports["cost"][0]]
        assert cost_report.data.get("recommendation_ids") == [rec.id], cost_report

        rec_created = at("recommendation.created", rec.id)
        validations = {a: at("validation.recorded", rec.id, agent=a) for a in AGENTS}
        verdict = at("recommendation.validated", rec.id)
        assert len(rec_created) == 1 and len(verdict) == 1, timeline
        assert all(len(ix) == 1 for ix in validations.values()), \
            f"validations {validations}\n{timeline}"
        last_validation = max(ix[0] for ix in validations.values())
        assert rec_created[0] < min(ix[0] for ix in validations.values()) and \
            last_validation < verdict[0], \
            f"expected recommendation.created < 4 validations < validated\n{timeline}"
        order = sorted(AGENTS, key=lambda a: reports[a][0])
        say(f"created -> reports ({', '.join(order)}) -> completed; recommendation.created -> "
            f"4 validations -> validated ({len(events)} events)")

    narrative.banner("MULTI-AGENT COORDINATION PASSED")
