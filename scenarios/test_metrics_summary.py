"""The metrics summary is throughput-weighted over the customer's workload samples.

docs/api.md, `GET /api/v1/metrics/summary?window=<s>`: `latency_p95_ms`, `quality_score` and
`error_rate` are throughput-weighted over the customer's samples in the window (ClickHouse
`workload_metrics`, one row per customer, pool, variant and second); nulls when there are
none. The fleet is stopped first, so the samples stop changing and the summary over a window
that holds them all can be compared with ClickHouse exactly.

What this catches: a summary that takes the worst second's p95 (or any unweighted mean), one
that mixes in another customer's samples, a summary that ignores its window.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    FleetSpec,
    PoolSpec,
    terminate_customer_instances,
    wait_for_condition,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

# Two pools whose p95 differ (GPU serves slower than CPU in the simulator), so the weighted
# p95 lies strictly between the pools' and well below the worst second's.
FLEET = FleetSpec(pools=[PoolSpec(name="inference", instance_type="g5.2xlarge", count=2),
                         PoolSpec(name="api", instance_type="m5.xlarge", count=2)])


@pytest.fixture
def fleet_spec() -> FleetSpec:
    return FLEET


def weighted(clickhouse, customer_id: str) -> tuple[int, float, float, float, float]:
    """count, weighted p95, weighted quality, weighted error rate, max p95: every sample."""
    ((n, p95, q, err, worst),) = clickhouse.execute(
        "SELECT count(), sum(latency_p95_ms * throughput_rps) / sum(throughput_rps), "
        "sum(quality_score * throughput_rps) / sum(throughput_rps), "
        "sum(error_rate * throughput_rps) / sum(throughput_rps), max(latency_p95_ms) "
        "FROM workload_metrics WHERE customer_id = %(c)s",
        {"c": customer_id})
    return n, p95, q, err, worst


@pytest.mark.req("REQ-PERF-01")
def test_the_summary_is_throughput_weighted_over_the_window(
        test_customer, test_infrastructure, ec2, clickhouse, narrative):
    client = test_customer.client
    narrative.banner("METRICS SUMMARY: THROUGHPUT-WEIGHTED")

    with phase(1, "The workload writes samples of both pools, then the fleet stops"):
        def pools_sampled() -> bool:
            rows = clickhouse.execute(
                "SELECT pool, count() FROM workload_metrics WHERE customer_id = %(c)s "
                "GROUP BY pool", {"c": test_customer.id})
            return {p for p, n in rows if n >= 3} == {p.name for p in FLEET.pools}
        wait_for_condition(pools_sampled, timeout=60, interval=1,
                           description="3+ samples of each pool in ClickHouse")
        terminate_customer_instances(ec2, test_customer.id)
        counts: list[int] = []

        def settled() -> bool:  # no new sample for 3 polls (inventory refresh ~3 s)
            counts.append(weighted(clickhouse, test_customer.id)[0])
            return len(counts) >= 4 and len(set(counts[-4:])) == 1
        wait_for_condition(settled, timeout=60, interval=1.5,
                           description="the workload to stop writing samples of the fleet")
        n, p95, quality, err, worst = weighted(clickhouse, test_customer.id)
        say(f"{n} samples; weighted p95 {p95:.2f} ms (worst second {worst:.2f} ms)")

    with phase(2, "The summary over a window holding every sample matches ClickHouse"):
        s = client.metrics_summary(window_s=3600)
        assert s.model_extra is not None and s.model_extra.get("samples") == n, \
            f"summary counts {s.model_extra and s.model_extra.get('samples')} samples, " \
            f"ClickHouse has {n} of this customer"
        assert s.latency_p95_ms is not None and abs(s.latency_p95_ms - p95) <= 0.02, \
            f"summary p95 {s.latency_p95_ms} ms, throughput-weighted p95 {p95:.2f} ms " \
            f"(worst second {worst:.2f} ms)"
        assert s.quality_score is not None and abs(s.quality_score - quality) <= 0.0002, \
            (s.quality_score, quality)
        assert s.error_rate is not None and abs(s.error_rate - err) <= 0.00002, \
            (s.error_rate, err)
        say(f"summary p95 {s.latency_p95_ms} ms, quality {s.quality_score}, errors "
            f"{s.error_rate}: as weighted from ClickHouse")

    with phase(3, "A window after the last sample holds none: nulls"):
        wait_for_condition(lambda: client.metrics_summary(window_s=1).latency_p95_ms is None,
                           timeout=10, interval=1,
                           description="the last second's summary to hold no sample")
        empty = client.metrics_summary(window_s=1)
        assert empty.quality_score is None and empty.error_rate is None, empty
        say("the last second holds no sample: nulls")
