"""Feature vectors of optimization cases, for similarity search in the pattern store. Pure."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .domain import Instance

FAMILIES = ("g", "p", "m", "c", "r")
FEATURE_NAMES = (
    "fleet_size", "gpu_fraction", "monthly_cost_scale", "savings_pct", "risk", "pool_count",
    *(f"family_{f}" for f in FAMILIES),
)
VECTOR_SIZE = len(FEATURE_NAMES)


def fleet_features(instances: Sequence[Instance], monthly_cost: float, savings_pct: float,
                   risk: float) -> list[float]:
    """A fixed-length vector in [0, 1] per dimension; similar fleets point the same way."""
    n = len(instances)
    fam = [sum(1 for i in instances if i.family.startswith(f)) / n if n else 0.0
           for f in FAMILIES]
    return [
        round(min(1.0, math.log1p(n) / math.log1p(200)), 6),
        round(sum(1 for i in instances if i.is_gpu) / n if n else 0.0, 6),
        round(min(1.0, math.log10(monthly_cost + 1) / 7), 6),
        round(max(0.0, min(1.0, savings_pct)), 6),
        round(max(0.0, min(1.0, risk * 4)), 6),
        round(min(1.0, len({i.pool for i in instances}) / 10), 6),
        *(round(x, 6) for x in fam),
    ]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0
