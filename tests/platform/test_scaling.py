"""Scaling a hot pool out: the plan, the latency check, and the simulator reproducing it."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from optiinfra.common.domain import PLANS, ROLLOUT_PLAN, SCALE_OUT_PLAN, rollout_plan
from optiinfra.common.scaling import PoolShape, latency_improved, scale_out_plan
from optiinfra.workload.model import CAPACITY_RPS, Fault, GroupState, pool_demand, simulate

TS = datetime(2026, 1, 1)


def shape(util: float, n: int = 4, p95: float = 200.0) -> PoolShape:
    return PoolShape("inference", "g5.2xlarge", n, util, p95, 10)


def test_a_cool_pool_is_left_alone() -> None:
    assert scale_out_plan(shape(0.5)) is None
    assert scale_out_plan(shape(0.85)) is None
    assert scale_out_plan(PoolShape("x", "m5.large", 4, 1.2, 90.0, 0)) is None


def test_a_hot_pool_grows_to_the_target_utilisation() -> None:
    plan = scale_out_plan(shape(1.25))
    assert plan is not None
    # 4 x 1.25 = 5 instance-capacities; at 0.6 that needs 9 instances
    assert (plan.instances, plan.add) == (4, 5)
    assert plan.predicted_utilization == pytest.approx(5 / 9, abs=1e-4)
    assert plan.predicted_p95_ms == pytest.approx(200 * (1 + (5 / 9) ** 2) / (1 + 1.25 ** 2),
                                                  abs=0.01)


def test_the_simulator_reproduces_the_predicted_latency() -> None:
    """The plan's prediction and the workload model agree: a surge of 2.5x on 4 instances,
    then 5 more instances that add capacity but no demand."""
    rng = random.Random(1)
    surge = Fault(demand_multiplier=2.5)
    demand = pool_demand({"on_demand": 4})
    hot = simulate(TS, GroupState("c", "inference", "on_demand", 4, "g5.2xlarge"), 1.0, demand,
                   "", 0, surge, rng)
    assert hot.utilization == pytest.approx(2.5 * demand / (4 * CAPACITY_RPS))
    plan = scale_out_plan(PoolShape("inference", "g5.2xlarge", 4, hot.utilization,
                                    hot.latency_p95_ms, 1))
    assert plan is not None
    cool = simulate(TS, GroupState("c", "inference", "on_demand", 4 + plan.add, "g5.2xlarge"),
                    1.0, demand, "", 0, surge, rng)
    assert cool.latency_p95_ms == pytest.approx(plan.predicted_p95_ms, rel=0.07)
    assert latency_improved(hot.latency_p95_ms, cool.latency_p95_ms, 3).approved


def test_latency_must_improve_by_a_fifth() -> None:
    v = latency_improved(200.0, 170.0, 5)
    assert not v.approved and "15.0%" in v.reason and "20%" in v.reason
    assert latency_improved(200.0, 150.0, 5).data["improvement"] == 0.25
    assert not latency_improved(200.0, 100.0, 0).approved


def test_each_kind_has_its_plan() -> None:
    assert rollout_plan("spot_migration") == ROLLOUT_PLAN
    assert rollout_plan("scale_out") == SCALE_OUT_PLAN
    names = [s.name for plan in PLANS.values() for s in plan]
    assert len(names) == len(set(names)), "step names must be unique across plans"
