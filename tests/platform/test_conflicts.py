"""Conflicting proposals: detection on shared pools, the supersede policy, consolidation."""

from __future__ import annotations

import pytest

from optiinfra.common.domain import (
    RECOMMENDATION,
    IllegalTransition,
    Superseded,
    conflicting_pools,
    rollout_plan,
    supersede_reason,
)
from optiinfra.common.scaling import PoolShape, consolidation_plan


def test_conflicts_are_shared_pools() -> None:
    spot = {"pools": ["api", "inference"]}
    assert conflicting_pools(spot, {"pools": ["inference"]}) == ["inference"]
    assert conflicting_pools(spot, {"pools": ["batch"]}) == []
    assert conflicting_pools({}, spot) == []


def test_the_loser_is_superseded_with_the_winner_and_pools_named() -> None:
    why = supersede_reason("consolidation", "r1", ["inference"])
    assert "consolidation r1" in why and "approved first" in why and "inference" in why
    for state in ("pending", "validated"):
        assert RECOMMENDATION.check(state, "superseded") == "superseded"
    with pytest.raises(IllegalTransition):
        RECOMMENDATION.check("superseded", "approved")
    e = Superseded("r2", why)
    assert isinstance(e, IllegalTransition) and why in str(e) and e.current == "superseded"


def test_a_cold_pool_is_consolidated_to_the_target() -> None:
    plan = consolidation_plan(PoolShape("inference", "g5.2xlarge", 4, 0.2, 100.0, 10))
    assert plan is not None and (plan.remove, plan.predicted_utilization) == (2, 0.4)
    assert consolidation_plan(PoolShape("inference", "g5.2xlarge", 4, 0.5, 100.0, 10)) is None
    assert consolidation_plan(PoolShape("x", "m5.large", 1, 0.05, 10.0, 10)) is None
    assert [s.name for s in rollout_plan("consolidation")] == ["consolidate_instances"]
