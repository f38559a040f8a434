"""Scaling a hot pool out: how many instances to add, what latency to expect, and whether
the change delivered. Pure; the latency model is the one the fleet follows (p95 grows with
1 + utilisation squared), so a prediction can be checked against measurements."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .gates import MAX_UTILIZATION, Verdict, approve, reject

TARGET_UTILIZATION = 0.6
MIN_LATENCY_IMPROVEMENT = 0.20
MAX_ADD = 20


@dataclass(frozen=True)
class PoolShape:
    """One pool as the workload sees it over a short window."""

    pool: str
    instance_type: str
    instances: int
    utilization: float
    latency_p95_ms: float
    samples: int


@dataclass(frozen=True)
class ScaleOutPlan:
    pool: str
    instance_type: str
    instances: int
    add: int
    utilization: float
    predicted_utilization: float
    latency_p95_ms: float
    predicted_p95_ms: float


def latency_factor(utilization: float) -> float:
    return 1 + utilization * utilization


def scale_out_plan(shape: PoolShape) -> ScaleOutPlan | None:
    """A pool above MAX_UTILIZATION grows until it runs at TARGET_UTILIZATION."""
    if shape.samples == 0 or shape.instances <= 0 or shape.utilization <= MAX_UTILIZATION:
        return None
    load = shape.instances * shape.utilization  # in instance-capacities
    target = math.ceil(round(load / TARGET_UTILIZATION, 6))
    add = min(MAX_ADD, target - shape.instances)
    if add <= 0:
        return None
    new_util = load / (shape.instances + add)
    predicted = shape.latency_p95_ms * latency_factor(new_util) / latency_factor(
        shape.utilization)
    return ScaleOutPlan(shape.pool, shape.instance_type, shape.instances, add,
                        round(shape.utilization, 4), round(new_util, 4),
                        round(shape.latency_p95_ms, 2), round(predicted, 2))


COLD_UTILIZATION = 0.30


@dataclass(frozen=True)
class ConsolidationPlan:
    pool: str
    instance_type: str
    instances: int
    remove: int
    utilization: float
    predicted_utilization: float


def consolidation_plan(shape: PoolShape) -> ConsolidationPlan | None:
    """A pool below COLD_UTILIZATION shrinks to the fewest instances that run it at
    TARGET_UTILIZATION (at least one)."""
    if shape.samples == 0 or shape.instances < 2 or shape.utilization >= COLD_UTILIZATION:
        return None
    load = shape.instances * shape.utilization
    keep = max(1, math.ceil(round(load / TARGET_UTILIZATION, 6)))
    if keep >= shape.instances:
        return None
    return ConsolidationPlan(shape.pool, shape.instance_type, shape.instances,
                             shape.instances - keep, round(shape.utilization, 4),
                             round(load / keep, 4))


def latency_improved(baseline_p95_ms: float, measured_p95_ms: float, samples: int) -> Verdict:
    """Performance: after the change, p95 fell by at least MIN_LATENCY_IMPROVEMENT."""
    if samples == 0:
        return reject("no samples of the scaled-out pool")
    if baseline_p95_ms <= 0:
        return reject("no baseline p95 to compare with")
    better = (baseline_p95_ms - measured_p95_ms) / baseline_p95_ms
    data = {"baseline_p95_ms": round(baseline_p95_ms, 2),
            "latency_p95_ms": round(measured_p95_ms, 2), "improvement": round(better, 4)}
    msg = (f"p95 {measured_p95_ms:.1f} ms vs baseline {baseline_p95_ms:.1f} ms "
           f"({better:+.1%})")
    if better < MIN_LATENCY_IMPROVEMENT:
        return reject(f"{msg}, needs at least {MIN_LATENCY_IMPROVEMENT:.0%} better", **data)
    return approve(msg, **data)


def pool_recommendation(kind: str, savings: float, confidence: float, region: str,
                        plan: ScaleOutPlan | ConsolidationPlan, catalogue: Any,
                        **details: Any) -> dict:
    """The shape every recommendation that resizes one pool shares (scale-out by the
    performance agent, consolidation by the resource agent); ``details`` adds its own."""
    return {
        "kind": kind, "estimated_monthly_savings": savings, "confidence": confidence,
        "risk": 0.0, "similar_patterns": [],
        "details": {
            "region": region, "pools": [plan.pool], "candidates": [], "savings_pct": 0.0,
            "pool": plan.pool, "instance_type": plan.instance_type,
            "instances": plan.instances, "utilization": plan.utilization,
            "predicted_utilization": plan.predicted_utilization, **details,
            "catalogue": {"source": catalogue.source, "as_of": catalogue.as_of},
        },
    }
