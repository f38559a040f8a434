"""Performance optimization: a traffic surge makes a pool slow; a performance analysis
recommends scaling it out; after approval and rollout the latency falls, in ClickHouse.

The surge is injected in the workload simulator (the pool gets 2.5x the demand it was sized
for); the simulator's latency grows with utilisation, so adding instances really helps there,
and the scenario checks the recommendation's arithmetic, its prediction and the bill.

What this catches: an agent that misses the hot pool or flags a cool one, a wrong instance
count or price, instances launched outside the pool (no effect on its latency), a simulator
that counts added capacity as demand, a latency check that passes without improvement, and a
cost change that differs from what was announced.
"""

from __future__ import annotations

import math

import pytest

from harness import phase, say
from harness.domain import (
    assert_latency_improved,
    assert_optimization_successful,
    assert_quality_maintained,
    customer_instances,
    wait_for_condition,
    wait_for_optimization_complete,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.requires_aws]

HOT_POOL, SURGE = "inference", 2.5
TARGET_UTILIZATION = 0.6  # documented in docs/api.md (scale_out)
WINDOW_S = 10


def pool_window(clickhouse, customer_id: str, pool: str, window_s: int = WINDOW_S):
    """(samples, min instances, min utilisation, avg p95) of the pool's on-demand samples."""
    rows = clickhouse.execute(
        "SELECT count(), min(instances), min(utilization), avg(latency_p95_ms) "
        "FROM workload_metrics WHERE customer_id = %(c)s AND pool = %(p)s "
        "AND variant = 'on_demand' AND ts >= now() - %(w)s AND throughput_rps > 0",
        {"c": customer_id, "p": pool, "w": window_s})
    return rows[0]


@pytest.mark.req("REQ-PERF-01", "REQ-PERF-02")
def test_scale_out_fixes_a_latency_problem(test_customer, test_infrastructure,
                                           baseline_metrics, ws_client, faults, clickhouse, ec2,
                                           narrative):
    client = test_customer.client
    cid = test_customer.id
    size = next(p.count for p in test_infrastructure.spec.pools if p.name == HOT_POOL)
    narrative.banner("PERFORMANCE OPTIMIZATION: SCALING OUT A HOT POOL")

    with phase(1, "Recording the healthy state"):
        cost_before = client.get_costs().monthly_cost
        hourly = {i.instance_type: i.hourly_cost for i in client.discover().instances}
        say(f"Cost ${cost_before:,.2f}/month; fleet p95 {baseline_metrics.latency_p95_ms} ms, "
            f"quality {baseline_metrics.quality_score}")

    with phase(2, f"A {SURGE}x traffic surge hits the '{HOT_POOL}' pool"):
        faults.inject(pool=HOT_POOL, demand_multiplier=SURGE)
        n, _, min_util, p95_hot = wait_for_condition(
            lambda: (lambda r: r if r[0] >= WINDOW_S - 2 and r[2] > 1.0 else None)(
                pool_window(clickhouse, cid, HOT_POOL)),
            timeout=40, interval=1, description=f"the surge to fill a {WINDOW_S} s window")
        before = client.metrics_summary(window_s=WINDOW_S)
        say(f"'{HOT_POOL}' p95 {p95_hot:.1f} ms, utilisation >= {min_util:.2f}; fleet p95 "
            f"{baseline_metrics.latency_p95_ms} -> {before.latency_p95_ms} ms")

    with phase(3, "A performance analysis recommends scaling the hot pool out"):
        client.start_analysis("performance")
        rec = wait_for_recommendation(client, kind="scale_out", timeout=60, events=ws_client)
        d = rec.details
        say(f"Recommendation {rec.id}: add {d['add']} x {d['instance_type']} to '{d['pool']}' "
            f"({d['instances']} at utilisation {d['utilization']}), predicted p95 "
            f"{d['baseline_p95_ms']} -> {d['predicted_p95_ms']} ms, "
            f"${rec.estimated_monthly_savings:,.2f}/month")
        others = [r for r in client.list_recommendations(kind="scale_out").data
                  if r.id != rec.id]
        assert d["pool"] == HOT_POOL and not others, \
            f"expected one scale-out of '{HOT_POOL}', got {d['pool']} and {len(others)} more"
        assert d["instances"] == size, f"agent saw {d['instances']} instances, fleet has {size}"
        assert abs(d["utilization"] - min_util) <= 0.1, \
            f"agent's utilisation {d['utilization']} vs ClickHouse {min_util:.3f}"
        want = math.ceil(round(size * d["utilization"] / TARGET_UTILIZATION, 6)) - size
        assert d["add"] == want, f"add {d['add']}, expected ceil({size} x " \
            f"{d['utilization']} / {TARGET_UTILIZATION}) - {size} = {want}"
        price = hourly[d["instance_type"]]
        extra = round(d["add"] * price * 730, 2)
        assert abs(-rec.estimated_monthly_savings - extra) <= 0.01, \
            f"announced ${-rec.estimated_monthly_savings:,.2f}/month more, catalogue says " \
            f"{d['add']} x ${price}/h x 730 h = ${extra:,.2f}"

    with phase(4, "Validation and approval"):
        rec = wait_for_validation(client, rec.id, min_agents=2, timeout=60, events=ws_client)
        assert rec.status == "validated", \
            f"'{rec.status}': {[(v.agent, v.verdict, v.reason) for v in rec.validations]}"
        opt_id = client.approve_recommendation(rec.id).optimization_id
        say(f"Validated by {', '.join(rec.approving_agents)}; optimization {opt_id}")

    with phase(5, "Rollout: instances added to the pool, latency checked"):
        opt = wait_for_optimization_complete(client, opt_id, timeout=120, events=ws_client)
        assert_optimization_successful(opt, required_traffic=(100,))
        assert [s.name for s in opt.steps] == ["scale_out_instances", "validate_latency"], \
            opt.steps
        pool = [i for i in customer_instances(ec2, cid) if {"Key": "optiinfra:pool",
                                                             "Value": HOT_POOL} in i["Tags"]]
        added = [i for i in pool if {"Key": "optiinfra:optimization", "Value": opt_id}
                 in i["Tags"]]
        assert len(pool) == size + d["add"] and len(added) == d["add"], \
            f"'{HOT_POOL}' has {len(pool)} instances ({len(added)} added), expected " \
            f"{size} + {d['add']}"
        say(f"'{HOT_POOL}' now runs {len(pool)} instances")

    with phase(6, "Latency improved, in ClickHouse-backed metrics"):
        n, _, util, p95_after = wait_for_condition(
            lambda: (lambda r: r if r[0] >= WINDOW_S - 2 and r[1] == size + d["add"]
                     else None)(pool_window(clickhouse, cid, HOT_POOL)),
            timeout=40, interval=1,
            description=f"a {WINDOW_S} s window of the pool at its new size")
        after = client.metrics_summary(window_s=WINDOW_S)
        pct = assert_latency_improved(before, after, min_pct=30)
        assert_quality_maintained(after.quality_score, threshold=0.90,
                                  source="GET /api/v1/metrics/summary")
        assert abs(p95_after - d["predicted_p95_ms"]) <= 0.15 * d["predicted_p95_ms"], \
            f"'{HOT_POOL}' p95 {p95_after:.1f} ms, predicted {d['predicted_p95_ms']} ms"
        say(f"Fleet p95 {before.latency_p95_ms} -> {after.latency_p95_ms} ms ({pct:.0f}% "
            f"better); '{HOT_POOL}' p95 {p95_hot:.1f} -> {p95_after:.1f} ms (predicted "
            f"{d['predicted_p95_ms']}), utilisation {util:.2f}; quality {after.quality_score}")

    with phase(7, "The bill grew by what was announced"):
        cost_after = client.get_costs().monthly_cost
        assert abs((cost_after - cost_before) + rec.estimated_monthly_savings) <= 1.0, \
            f"cost ${cost_before:,.2f} -> ${cost_after:,.2f}, announced " \
            f"{rec.estimated_monthly_savings:+,.2f}"
        assert opt.actual_monthly_savings is not None and \
            abs(opt.actual_monthly_savings - rec.estimated_monthly_savings) <= 1.0, opt
        say(f"Cost ${cost_before:,.2f} -> ${cost_after:,.2f}/month "
            f"(+${cost_after - cost_before:,.2f}, as announced)")

    narrative.banner("PERFORMANCE OPTIMIZATION PASSED")
