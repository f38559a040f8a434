"""The workload simulator's model: traffic split, latency under load, faults."""

from __future__ import annotations

import random
from datetime import datetime

from optiinfra.common.domain import Instance
from optiinfra.workload.model import (
    Fault,
    FaultBook,
    GroupState,
    pool_demand,
    simulate,
    traffic_shares,
)
from optiinfra.workload.simulator import Simulator

TS = datetime(2026, 1, 1)


def test_rollout_weight_wins_and_absent_variants_pass_their_share() -> None:
    assert traffic_shares({"on_demand": 4, "spot": 4}, 10) == {"spot": 0.1, "on_demand": 0.9}
    assert traffic_shares({"on_demand": 4, "spot": 0}, 50) == {"on_demand": 1.0}
    assert traffic_shares({"on_demand": 0, "spot": 4}, None) == {"spot": 1.0}
    assert traffic_shares({"on_demand": 2, "spot": 2}, None) == {"on_demand": 0.5, "spot": 0.5}
    assert traffic_shares({}, None) == {}


def test_quality_drop_and_added_latency_show_in_samples() -> None:
    g = GroupState("c", "inference", "spot", 4, "g5.2xlarge")
    rng = random.Random(1)
    ok = simulate(TS, g, 0.5, pool_demand({"spot": 4}), "o", 50, Fault(), rng)
    bad = simulate(TS, g, 0.5, 80, "o", 50, Fault(0.2, 300, 0.1), rng)
    assert ok.quality_score > 0.93 and bad.quality_score < 0.8
    assert bad.latency_p95_ms > ok.latency_p95_ms + 250
    assert bad.error_rate >= 0.1 and ok.error_rate < 0.01
    assert ok.gpu_utilization > 0 and ok.traffic_pct == 50


def test_fault_book_prefers_the_most_specific_and_expires() -> None:
    now = [0.0]
    book = FaultBook(clock=lambda: now[0])
    book.set("c", "*", "*", Fault(quality_drop=0.1))
    book.set("c", "inference", "spot", Fault(quality_drop=0.3, expires_at=5))
    assert book.lookup("c", "inference", "spot").quality_drop == 0.3
    assert book.lookup("c", "api", "spot").quality_drop == 0.1
    assert book.lookup("other", "api", "spot").quality_drop == 0
    now[0] = 6
    assert book.lookup("c", "inference", "spot").quality_drop == 0.1
    assert book.clear("c") == 2 and book.lookup("c", "api", "spot").quality_drop == 0


def test_simulator_writes_one_sample_per_customer_pool_and_variant() -> None:
    sim = Simulator(None, None, None, ["us-east-1"], FaultBook(), seed=3)  # type: ignore[arg-type]
    fleets = {"c1": [Instance(f"i-{k}", "g5.2xlarge", "us-east-1", "on-demand", "inference")
                     for k in range(4)]
              + [Instance(f"s-{k}", "g5.2xlarge", "us-east-1", "spot", "inference")
                 for k in range(4)]}
    got = sim.samples(TS, fleets, {"c1": {"optimization_id": "o1", "spot_pct": "10"}})
    by = {s.variant: s for s in got}
    assert set(by) == {"on_demand", "spot"}
    assert by["spot"].traffic_pct == 10 and by["spot"].optimization_id == "o1"
    assert by["spot"].throughput_rps < by["on_demand"].throughput_rps


def test_a_fault_armed_for_fifty_percent_waits_for_that_rollout_step() -> None:
    book = FaultBook()
    book.set("c1", "*", "spot", Fault(error_rate=0.25, from_traffic_pct=50))
    sim = Simulator(None, None, None, ["us-east-1"], book, seed=3)  # type: ignore[arg-type]
    fleets = {"c1": [Instance(f"{v[0]}-{k}", "g5.2xlarge", "us-east-1", v, "inference")
                     for v in ("on-demand", "spot") for k in range(2)]}

    def spot_error_rate(spot_pct: str | None) -> float:
        rollout = {"optimization_id": "o1", "spot_pct": spot_pct} if spot_pct else {}
        (spot,) = [s for s in sim.samples(TS, fleets, {"c1": rollout}) if s.variant == "spot"]
        return spot.error_rate

    assert spot_error_rate("10") < 0.01  # the canary: still dormant
    assert spot_error_rate("50") >= 0.25 and spot_error_rate("100") >= 0.25
    assert spot_error_rate(None) < 0.01  # no rollout in progress: 0% to spot by weight
