"""The seed's assertions: they pass on good numbers and fail showing the numbers."""

from __future__ import annotations

import pytest

from harness.domain import (
    MetricsSummary,
    OptimizationPublic,
    RecommendationPublic,
    assert_cost_reduced,
    assert_latency_improved,
    assert_multi_agent_coordination,
    assert_optimization_successful,
    assert_quality_maintained,
    assert_rollback_successful,
    assert_savings_match_prediction,
)

pytestmark = pytest.mark.unit
T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:02Z"


def _opt(status="completed", traffic=(10, 50, 100), step_status="completed", reason=None):
    steps = [{"name": f"shift_traffic_{p}", "status": step_status, "traffic_pct": p,
              "started_at": T0, "finished_at": T1} for p in traffic]
    return OptimizationPublic.model_validate({"id": "o1", "status": status, "steps": steps,
                                              "reason": reason})


def test_optimization_successful_and_skipped_step():
    assert_optimization_successful(_opt())
    with pytest.raises(AssertionError, match=r"skipped traffic steps \[50\]") as err:
        assert_optimization_successful(_opt(traffic=(10, 100)))
    assert "shift_traffic_10" in str(err.value)  # the steps table is shown
    with pytest.raises(AssertionError, match="status is 'rolled_back'"):
        assert_optimization_successful(_opt(status="rolled_back", reason="quality 0.7"))


def test_cost_reduced_shows_numbers():
    assert assert_cost_reduced(1000, 600, min_pct=30) == pytest.approx(40)
    with pytest.raises(AssertionError, match=r"fell 10\.0% \(\$1,000\.00 -> \$900\.00\).*30%"):
        assert_cost_reduced(1000, 900, min_pct=30)


def test_latency_improved():
    before, after = MetricsSummary(latency_p95_ms=200), MetricsSummary(latency_p95_ms=150)
    assert assert_latency_improved(before, after) == pytest.approx(25)
    with pytest.raises(AssertionError, match=r"150\.0 ms -> 200\.0 ms"):
        assert_latency_improved(after, before)
    with pytest.raises(AssertionError, match="missing"):
        assert_latency_improved(MetricsSummary(), after)


def test_quality_maintained():
    assert_quality_maintained(0.95, 0.9)
    with pytest.raises(AssertionError, match=r"0\.85 is below the threshold 0\.9"):
        assert_quality_maintained(0.85, 0.9)
    with pytest.raises(AssertionError):
        assert_quality_maintained(None)


def test_multi_agent_coordination_counts_distinct_approvals():
    rec = RecommendationPublic.model_validate({"id": "r", "kind": "spot_migration",
        "status": "validated", "validations": [
            {"agent": "performance", "verdict": "approve"},
            {"agent": "performance", "verdict": "approve"},
            {"agent": "application", "verdict": "reject", "reason": "quality"}]})
    with pytest.raises(AssertionError, match=r"approved by 1 agent\(s\) \['performance'\]"):
        assert_multi_agent_coordination(rec, min_agents=2)
    assert assert_multi_agent_coordination(rec, min_agents=1) == ["performance"]


def test_savings_match_prediction_tolerance():
    assert assert_savings_match_prediction(1000, 850, 0.2) == pytest.approx(0.15)
    with pytest.raises(AssertionError, match=r"\$700\.00/month differ .* \$1,000\.00 by 30\.0%"):
        assert_savings_match_prediction(1000, 700, 0.2)


def test_rollback_successful():
    assert_rollback_successful(_opt(status="rolled_back", reason="quality 0.70 < 0.90"),
                               cost_before=100, cost_after=100)
    with pytest.raises(AssertionError, match="no rollback reason"):
        assert_rollback_successful(_opt(status="rolled_back"))
    with pytest.raises(AssertionError, match="cost not back to baseline"):
        assert_rollback_successful(_opt(status="rolled_back", reason="x"), cost_before=100,
                                   cost_after=60)
