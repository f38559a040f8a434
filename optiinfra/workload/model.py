"""How a serving pool behaves: traffic split, load, latency, errors, quality. Pure."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..common.metrics import Sample

RPS_PER_INSTANCE = 20.0  # demand a pool was sized for
CAPACITY_RPS = 40.0  # what one instance serves before queueing dominates
BASE_P50_MS = {"g": 45.0, "p": 30.0}
CPU_P50_MS = 12.0
BASE_QUALITY = 0.955
BASE_ERROR_RATE = 0.002
VARIANTS = ("on_demand", "spot")


@dataclass(frozen=True)
class Fault:
    quality_drop: float = 0.0
    added_latency_ms: float = 0.0
    error_rate: float = 0.0
    expires_at: float | None = None  # monotonic clock; None = until cleared
    demand_multiplier: float = 1.0
    # Armed, not yet active, until a rollout sends at least this % of traffic to spot (0 =
    # always active): "fail at the 50% step" without racing the rollout's clock.
    from_traffic_pct: int = 0

    def active_at(self, spot_traffic_pct: int) -> bool:
        return spot_traffic_pct >= self.from_traffic_pct


NO_FAULT = Fault()


@dataclass
class FaultBook:
    """Faults per (customer, pool, variant); '*' matches any pool or variant."""

    clock: Callable[[], float] = time.monotonic
    faults: dict[tuple[str, str, str], Fault] = field(default_factory=dict)

    def set(self, customer_id: str, pool: str, variant: str, fault: Fault) -> None:
        self.faults[(customer_id, pool, variant)] = fault

    def clear(self, customer_id: str | None = None) -> int:
        keys = [k for k in self.faults if customer_id is None or k[0] == customer_id]
        for k in keys:
            del self.faults[k]
        return len(keys)

    def lookup(self, customer_id: str, pool: str, variant: str) -> Fault:
        now = self.clock()
        for key in ((customer_id, pool, variant), (customer_id, pool, "*"),
                    (customer_id, "*", variant), (customer_id, "*", "*")):
            f = self.faults.get(key)
            if f is not None and (f.expires_at is None or f.expires_at > now):
                return f
        return NO_FAULT

    def active(self) -> list[tuple[tuple[str, str, str], Fault]]:
        now = self.clock()
        return [(k, f) for k, f in sorted(self.faults.items())
                if f.expires_at is None or f.expires_at > now]


def traffic_shares(counts: dict[str, int], spot_pct: int | None) -> dict[str, float]:
    """Share of a pool's demand per variant. A rollout's weight wins; otherwise by size.
    A variant without instances passes its share to the other."""
    live = {v: n for v, n in counts.items() if n > 0}
    if not live:
        return {}
    if spot_pct is None or len(live) == 1:
        total = sum(live.values())
        return {v: n / total for v, n in live.items()}
    return {"spot": spot_pct / 100, "on_demand": 1 - spot_pct / 100}


@dataclass(frozen=True)
class GroupState:
    customer_id: str
    pool: str
    variant: str
    instances: int
    instance_type: str


def simulate(ts: datetime, g: GroupState, share: float, demand_rps: float,
             optimization_id: str, traffic_pct: int, fault: Fault,
             rng: random.Random) -> Sample:
    family = g.instance_type[:1]
    gpu = family in BASE_P50_MS
    served = share * demand_rps * fault.demand_multiplier
    util = min(1.5, served / (g.instances * CAPACITY_RPS)) if g.instances else 0.0
    p50 = BASE_P50_MS.get(family, CPU_P50_MS) * (1 + util * util) * rng.uniform(0.97, 1.03)
    p50 += fault.added_latency_ms * 0.5
    p95 = p50 * 2.1 + fault.added_latency_ms * 0.5
    err = min(1.0, BASE_ERROR_RATE * rng.uniform(0.5, 1.5) + fault.error_rate)
    quality = max(0.0, min(1.0, BASE_QUALITY + rng.gauss(0, 0.003) - fault.quality_drop))
    return Sample(
        ts=ts, customer_id=g.customer_id, pool=g.pool, variant=g.variant,
        optimization_id=optimization_id, traffic_pct=traffic_pct, instances=g.instances,
        instance_type=g.instance_type, latency_p50_ms=round(p50, 3),
        latency_p95_ms=round(p95, 3), throughput_rps=round(served * (1 - err), 3),
        error_rate=round(err, 5), gpu_utilization=round(util if gpu else 0.0, 4),
        utilization=round(util, 4), quality_score=round(quality, 4))


def pool_demand(counts: dict[str, int]) -> float:
    """A pool serves what its full-size variant was sized for (blue-green keeps both sized)."""
    return RPS_PER_INSTANCE * max(counts.values(), default=0)
