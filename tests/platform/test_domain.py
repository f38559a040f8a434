"""State machines, rollout plan, recommendation outcome: pure domain logic."""

from __future__ import annotations

import pytest

from optiinfra.common.domain import (
    ANALYSIS,
    OPTIMIZATION,
    RECOMMENDATION,
    ROLLOUT_PLAN,
    STEP,
    IllegalTransition,
    agents_for_analysis,
    recommendation_outcome,
)


@pytest.mark.parametrize(("machine", "current", "target"), [
    (RECOMMENDATION, "pending", "validated"), (RECOMMENDATION, "validated", "approved"),
    (RECOMMENDATION, "validated", "rejected"), (OPTIMIZATION, "pending", "running"),
    (OPTIMIZATION, "running", "completed"), (OPTIMIZATION, "running", "rolled_back"),
    (ANALYSIS, "pending", "completed"), (STEP, "running", "failed"),
])
def test_legal_transitions(machine, current, target) -> None:
    assert machine.check(current, target) == target


@pytest.mark.parametrize(("machine", "current", "target"), [
    (RECOMMENDATION, "pending", "approved"),  # approving a non-validated recommendation
    (RECOMMENDATION, "approved", "approved"),  # approving twice
    (RECOMMENDATION, "rejected", "approved"),
    (OPTIMIZATION, "completed", "rolled_back"), (OPTIMIZATION, "rolled_back", "running"),
    (ANALYSIS, "completed", "failed"), (STEP, "completed", "running"),
])
def test_illegal_transitions_raise_with_context(machine, current, target) -> None:
    with pytest.raises(IllegalTransition) as info:
        machine.check(current, target)
    assert (info.value.current, info.value.target) == (current, target)
    assert current in str(info.value) and target in str(info.value)


def test_terminal_states() -> None:
    assert OPTIMIZATION.is_terminal("completed") and not OPTIMIZATION.is_terminal("running")
    assert RECOMMENDATION.is_terminal("approved")


def test_recommendation_needs_every_required_validator() -> None:
    req = ("performance", "application")
    assert recommendation_outcome(req, {}) == "pending"
    assert recommendation_outcome(req, {"performance": "approve"}) == "pending"
    assert recommendation_outcome(req, {"performance": "approve",
                                        "application": "approve"}) == "validated"
    assert recommendation_outcome(req, {"performance": "reject"}) == "rejected"
    assert recommendation_outcome(req, {"performance": "approve", "application": "approve",
                                        "resource": "reject"}) == "rejected"


def test_rollout_plan_shifts_10_50_100_and_validates_each() -> None:
    shifts = [s.traffic_pct for s in ROLLOUT_PLAN if s.action == "shift"]
    assert shifts == [10, 50, 100]
    actions = [s.action for s in ROLLOUT_PLAN]
    assert actions[0] == "launch" and actions[-1] == "terminate"
    for i, step in enumerate(ROLLOUT_PLAN):
        if step.action == "shift":
            assert ROLLOUT_PLAN[i + 1].action == "validate"
            assert ROLLOUT_PLAN[i + 1].traffic_pct == step.traffic_pct


def test_analysis_kinds() -> None:
    assert agents_for_analysis("cost") == ("cost",)
    assert set(agents_for_analysis("full")) == {"cost", "performance", "resource",
                                                "application"}
    with pytest.raises(Exception, match="unknown analysis kind"):
        agents_for_analysis("quantum")
