"""The agents' decision rules."""

from __future__ import annotations

from optiinfra.agents.waiting import wait_for_samples
from optiinfra.common import gates
from optiinfra.common.gates import PoolStats


def test_predicted_latency_needs_history_and_bounded_risk() -> None:
    base = {"inference": PoolStats(10, latency_p95_ms=120.0)}
    assert gates.predicted_latency_impact(base, 0.075).approved
    assert not gates.predicted_latency_impact(base, 0.9).approved
    v = gates.predicted_latency_impact({"inference": PoolStats(0)}, 0.05)
    assert not v.approved and "no latency history" in v.reason
    assert gates.predicted_latency_impact(base, 0.1).data["baseline_p95_ms"] == {
        "inference": 120.0}


def test_quality_gates_use_the_threshold() -> None:
    assert gates.quality_baseline(PoolStats(5, quality_score=0.95), 0.9).approved
    assert not gates.quality_baseline(PoolStats(5, quality_score=0.85), 0.9).approved
    assert not gates.quality_step(PoolStats(3, quality_score=0.75), 0.9, 10).approved
    v = gates.quality_step(PoolStats(0), 0.9, 50)
    assert not v.approved and "no samples" in v.reason and "50%" in v.reason


def test_latency_step_rejects_slow_or_failing_spot() -> None:
    assert gates.latency_step(PoolStats(3, latency_p95_ms=130, error_rate=0.002), 120, 10).approved
    assert not gates.latency_step(PoolStats(3, latency_p95_ms=400), 120, 10).approved
    assert not gates.latency_step(PoolStats(3, latency_p95_ms=100, error_rate=0.2), 120, 10
                                  ).approved


def test_capacity_rejects_hot_pools() -> None:
    assert gates.capacity({"a": PoolStats(3, utilization=0.5)}).approved
    v = gates.capacity({"a": PoolStats(3, utilization=0.95)})
    assert not v.approved and "a" in v.reason


def test_wait_for_samples_polls_until_enough_without_sleeping() -> None:
    t, calls = [0.0], []

    def fetch() -> dict:
        calls.append(1)
        return {"p": PoolStats(len(calls))}

    def sleep(s: float) -> None:
        t[0] += s

    got = wait_for_samples(fetch, ["p"], 3, 10, clock=lambda: t[0], sleep=sleep)
    assert got["p"].samples == 3 and t[0] == 1.0


def test_wait_for_samples_returns_what_there_is_at_the_deadline() -> None:
    t = [0.0]
    got = wait_for_samples(dict, ["p", "q"], 1, 2, clock=lambda: t[0],
                           sleep=lambda s: t.__setitem__(0, t[0] + s))
    assert got["p"].samples == 0 and got["q"].samples == 0
