"""Regions: a fleet outside the default region, and a customer with fleets in two regions.

docs/api.md: discover, costs, analyses and reports take a region of the price catalogue
(`us-east-1`, `us-west-2`); every cost is the live inventory of that region x that region's
catalogue prices x 730 h; a spot migration acts where its recommendation's `details.region`
says the fleet runs.

What this catches: a region that is silently replaced by the default one (discovery, costs,
an analysis or a rollout looking in `us-east-1`), prices of the wrong region, one region's
instances leaking into another's figures or proposals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from harness import phase, say
from harness.domain import (
    CataloguePublic,
    Customer,
    FleetSpec,
    PoolSpec,
    assert_optimization_successful,
    customer_instances,
    launch_fleet,
    terminate_customer_instances,
    wait_for_condition,
    wait_for_optimization_complete,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

EAST, WEST = "us-east-1", "us-west-2"  # the default region and another of the catalogue
AGENTS = ("cost", "performance", "resource", "application")
MAX_UTILIZATION = 0.85  # docs/api.md: the resource agent wants every pool below 85 %
# docs/api.md, Optimization: the steps of a spot migration, in order.
SPOT_STEPS = ["launch_spot_instances", "shift_traffic_10", "validate_10", "shift_traffic_50",
              "validate_50", "shift_traffic_100", "validate_100", "terminate_on_demand"]
# Two pools with different savings, so a per-pool figure given to the wrong pool shows.
WEST_FLEET = FleetSpec(region=WEST, pools=[
    PoolSpec(name="inference", instance_type="g5.2xlarge", count=2),
    PoolSpec(name="api", instance_type="m5.xlarge", count=2),
])
EAST_FLEET = FleetSpec(region=EAST, pools=[PoolSpec(name="web", instance_type="c5.xlarge",
                                                    count=2)])


@pytest.fixture
def west_ec2(aws: Any, test_customer: Customer) -> Iterator[Any]:
    """EC2 in us-west-2; the customer's instances there (spot ones too) go after the test
    (``test_customer`` cleans up the default region only)."""
    client = aws("ec2", region=WEST)
    yield client
    terminate_customer_instances(client, test_customer.id)


def monthly(catalogue: CataloguePublic, region: str, spec: FleetSpec, price: str) -> float:
    """The fleet's monthly cost from the catalogue: ``price`` is on_demand or spot."""
    prices = catalogue.regions[region]
    return round(sum(getattr(prices[p.instance_type], price) * p.count for p in spec.pools)
                 * catalogue.hours_per_month, 2)


def finished_analysis(client: Any, analysis_id: str) -> Any:
    return wait_for_condition(
        lambda: (lambda a: a if a.status != "pending" else None)(
            client.get_analysis(analysis_id)),
        timeout=90, interval=0.5, description=f"analysis {analysis_id} to finish")


def spot_quality_at_full_traffic(clickhouse: Any, customer_id: str, opt_id: str
                                 ) -> float | None:
    """The spot variant's quality while the rollout held 100 %: throughput-weighted per pool,
    the pools weighed by their samples (each pool is one service of the fleet)."""
    rows = clickhouse.execute(
        "SELECT pool, count(), sum(quality_score * throughput_rps) / sum(throughput_rps) "
        "FROM workload_metrics WHERE customer_id = %(c)s AND optimization_id = %(o)s AND "
        "traffic_pct = 100 AND variant = 'spot' AND throughput_rps > 0 GROUP BY pool",
        {"c": customer_id, "o": opt_id})
    n = sum(r[1] for r in rows)
    return round(sum(r[1] * r[2] for r in rows) / n, 4) if n else None


def pools_sampled(clickhouse: Any, customer_id: str, spec: FleetSpec) -> bool:
    rows = clickhouse.execute(
        "SELECT pool, count() FROM workload_metrics WHERE customer_id = %(c)s AND "
        "variant = 'on_demand' AND throughput_rps > 0 GROUP BY pool", {"c": customer_id})
    return {p for p, n in rows if n >= 3} >= {p.name for p in spec.pools}


def assert_inventory_is(inventory: Any, region: str, ids: list[str]) -> None:
    listed = sorted(i.instance_id for i in inventory.instances)
    assert listed == sorted(ids), f"discover({region}) lists {listed}, the fleet there is " \
        f"{sorted(ids)}"
    regions = {i.region for i in inventory.instances}
    assert regions <= {region}, f"discover({region}) lists instances of {regions}"


@pytest.mark.req("REQ-SPOT-01", "REQ-SPOT-06", "REQ-SPOT-07")
def test_a_fleet_outside_the_default_region_is_analysed_and_migrated_there(
        test_customer, west_ec2, ec2, ws_client, clickhouse, narrative):
    client = test_customer.client
    catalogue = client.catalogue()
    assert catalogue.hours_per_month == 730, catalogue.hours_per_month
    narrative.banner(f"A FLEET IN {WEST}")

    with phase(1, f"Discovering and pricing the fleet in {WEST}"):
        fleet = launch_fleet(west_ec2, test_customer.id, WEST_FLEET)
        assert_inventory_is(client.discover(region=WEST), WEST, fleet.instance_ids)
        assert client.discover(region=EAST).instances == [], \
            f"discover({EAST}) lists instances of a customer whose fleet is in {WEST}"
        expected = monthly(catalogue, WEST, WEST_FLEET, "on_demand")
        cost_before = client.get_costs(region=WEST).monthly_cost
        assert abs(cost_before - expected) <= 0.01, \
            f"GET /costs?region={WEST}: ${cost_before:,.2f}/month, the catalogue's {WEST} " \
            f"on-demand prices x 730 h give ${expected:,.2f}"
        assert client.get_costs(region=EAST).monthly_cost == 0, \
            f"{EAST} has no instance of this customer"
        # The agents judge pools on the workload's samples: wait until every pool has some.
        wait_for_condition(lambda: pools_sampled(clickhouse, test_customer.id, WEST_FLEET),
                           timeout=60, interval=1,
                           description="3+ on-demand samples of each pool in ClickHouse")
        say(f"{len(fleet.instance_ids)} instances in {WEST}: ${cost_before:,.2f}/month")

    with phase(2, f"A full analysis of {WEST}: every agent reports, findings per pool"):
        done = finished_analysis(client, client.start_analysis("full", region=WEST).id)
        assert done.status == "completed", f"analysis {done.status}: {done.error}"
        assert done.region == WEST, f"the analysis ran for region {done.region}"
        assert set(done.results) == set(AGENTS), \
            f"completed with results from {sorted(done.results)} only (docs: completed once " \
            f"every agent in `agents` reported)"
        findings = {(f["agent"], f["pool"]): f for f in done.findings}
        prices = catalogue.regions[WEST]
        for p in WEST_FLEET.pools:
            price = prices[p.instance_type]
            assert price.spot is not None
            want = round((price.on_demand - price.spot) * p.count
                         * catalogue.hours_per_month, 2)
            got = findings[("cost", p.name)]["spot_savings"]
            assert abs(got - want) <= 0.01, f"cost finding of pool {p.name}: spot_savings " \
                f"${got:,.2f}, the {WEST} catalogue gives ${want:,.2f}"
            util = findings[("resource", p.name)]
            assert util["headroom"] == (util["value"] <= MAX_UTILIZATION), \
                f"resource finding of pool {p.name}: utilisation {util['value']}, " \
                f"headroom {util['headroom']} (headroom means below {MAX_UTILIZATION:.0%})"
        say(f"cost and resource findings per pool match the {WEST} catalogue and utilisation")

    with phase(3, f"The spot migration proposed for {WEST} is validated by all four agents"):
        assert len(done.recommendation_ids) == 1, done.recommendation_ids
        rec = wait_for_validation(client, done.recommendation_ids[0], min_agents=4,
                                  timeout=120, events=ws_client)
        assert rec.status == "validated", f"'{rec.status}': " \
            f"{[(v.agent, v.verdict, v.reason) for v in rec.validations]}"
        d = rec.details
        assert d["region"] == WEST, f"recommendation for region {d['region']}"
        assert sorted(c["instance_id"] for c in d["candidates"]) == \
            sorted(fleet.instance_ids), d["candidates"]
        projected = monthly(catalogue, WEST, WEST_FLEET, "spot")
        assert abs(d["projected_monthly_cost"] - projected) <= 0.01, \
            f"projected ${d['projected_monthly_cost']:,.2f}, {WEST} spot prices give " \
            f"${projected:,.2f}"
        say(f"validated: ${rec.estimated_monthly_savings:,.2f}/month in {WEST}")

    with phase(4, f"The rollout runs in {WEST}, step by step in order"):
        opt_id = client.approve_recommendation(rec.id).optimization_id
        opt = wait_for_optimization_complete(client, opt_id, timeout=240, events=ws_client)
        assert_optimization_successful(opt)
        names = [s.name for s in opt.steps]
        assert names == SPOT_STEPS, f"steps listed as {names}, documented order {SPOT_STEPS}"
        left = customer_instances(west_ec2, test_customer.id)
        have = Counter((i["InstanceType"], i.get("InstanceLifecycle", "on-demand"))
                       for i in left)
        want = Counter({(p.instance_type, "spot"): p.count for p in WEST_FLEET.pools})
        assert have == want, f"{WEST} after the migration runs {dict(have)}, expected each " \
            f"on-demand instance replaced by one spot instance: {dict(want)}"
        assert customer_instances(ec2, test_customer.id) == [], \
            f"the rollout launched instances in {EAST} for a fleet in {WEST}"
        measured = spot_quality_at_full_traffic(clickhouse, test_customer.id, opt_id)
        assert opt.quality_score is not None and measured is not None and \
            abs(opt.quality_score - measured) <= 0.005, \
            f"the optimization reports quality {opt.quality_score}; the spot variant served " \
            f"{measured} at 100 % traffic (ClickHouse, every pool)"
        say(f"{len(left)} spot instances run in {WEST}; nothing in {EAST}; quality "
            f"{opt.quality_score} (measured {measured:.4f})")

    with phase(5, "The bill and the report of the region show the realised savings"):
        cost_after = client.get_costs(region=WEST).monthly_cost
        assert abs(cost_after - projected) <= 0.01, \
            f"${cost_after:,.2f}/month after, the {WEST} spot prices give ${projected:,.2f}"
        actual = round(cost_before - cost_after, 2)
        assert opt.actual_monthly_savings is not None and \
            abs(opt.actual_monthly_savings - actual) <= 0.01, \
            f"actual_monthly_savings {opt.actual_monthly_savings}, cost before - after = " \
            f"{actual}"
        report = client.savings_report(region=WEST)
        assert report.region == WEST and report.counts.get("completed") == 1, report
        assert abs(report.realised_monthly_savings - actual) <= 0.01 and \
            report.baseline_monthly_cost == opt.cost_before and \
            abs(report.current_monthly_cost - cost_after) <= 0.01, report
        say(f"${cost_before:,.2f} -> ${cost_after:,.2f}/month: ${actual:,.2f} realised")


@pytest.mark.req("REQ-SPOT-01", "REQ-ISO-02")
def test_a_customer_with_fleets_in_two_regions_sees_each_region_apart(
        test_customer, west_ec2, ec2, narrative):
    client = test_customer.client
    catalogue = client.catalogue()
    narrative.banner(f"ONE CUSTOMER, FLEETS IN {EAST} AND {WEST}")

    with phase(1, "Each region's discovery lists only its own fleet"):
        east = launch_fleet(ec2, test_customer.id, EAST_FLEET)
        west = launch_fleet(west_ec2, test_customer.id, WEST_FLEET)
        assert_inventory_is(client.discover(region=EAST), EAST, east.instance_ids)
        assert_inventory_is(client.discover(region=WEST), WEST, west.instance_ids)
        say(f"{EAST}: {len(east.instance_ids)}, {WEST}: {len(west.instance_ids)} instances")

    with phase(2, "Each region's cost is its own fleet at its own prices"):
        for region, spec in ((EAST, EAST_FLEET), (WEST, WEST_FLEET)):
            want = monthly(catalogue, region, spec, "on_demand")
            got = client.get_costs(region=region).monthly_cost
            assert abs(got - want) <= 0.01, f"GET /costs?region={region}: ${got:,.2f}, its " \
                f"fleet at its catalogue prices: ${want:,.2f}"
            report = client.savings_report(region=region)
            assert report.region == region and \
                abs(report.current_monthly_cost - want) <= 0.01, report
        assert client.get_costs().monthly_cost == \
            client.get_costs(region=EAST).monthly_cost, "no region must mean us-east-1"
        say("costs and reports per region match the catalogue")

    with phase(3, "A cost analysis of each region proposes moving that region's fleet only"):
        started = {r: client.start_analysis("cost", region=r).id for r in (EAST, WEST)}
        for region, spec, fleet in ((EAST, EAST_FLEET, east), (WEST, WEST_FLEET, west)):
            done = finished_analysis(client, started[region])
            assert done.status == "completed", f"{region}: {done.status}: {done.error}"
            pools = sorted(f["pool"] for f in done.findings if f["agent"] == "cost")
            assert pools == sorted(p.name for p in spec.pools), \
                f"cost findings of {region} for pools {pools}"
            assert len(done.recommendation_ids) == 1, (region, done.recommendation_ids)
            d = client.get_recommendation(done.recommendation_ids[0]).details
            ids = sorted(c["instance_id"] for c in d["candidates"])
            assert d["region"] == region and ids == sorted(fleet.instance_ids), \
                f"the {region} proposal is for region {d['region']}, candidates {ids}, its " \
                f"fleet is {sorted(fleet.instance_ids)}"
            projected = monthly(catalogue, region, spec, "spot")
            assert abs(d["projected_monthly_cost"] - projected) <= 0.01, \
                (region, d["projected_monthly_cost"], projected)
        say("one proposal per region, each with its own instances and prices")

    with phase(4, "Analysing a region again refers to its open proposal: no duplicate"):
        west_rec = client.get_analysis(started[WEST]).recommendation_ids
        again = finished_analysis(client, client.start_analysis("cost", region=WEST).id)
        assert again.status == "completed" and set(again.recommendation_ids) <= set(west_rec), \
            f"a second {WEST} analysis proposed {again.recommendation_ids}, the open " \
            f"proposal is {west_rec}"
        referred = [e.data.get("recommendation_id") for e in client.audit(entity_id=again.id).data
                    if e.action == "deduplicated"]
        assert referred == west_rec, f"the second analysis's audit refers to {referred}, the " \
            f"open proposal is {west_rec}"
        listed = client.list_recommendations(kind="spot_migration").data
        assert len(listed) == 2, \
            f"expected one open spot migration per region, got {[(r.id, r.status) for r in listed]}"
        say(f"the second {WEST} analysis refers to {west_rec[0]}")
