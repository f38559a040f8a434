"""Price catalogue and the arithmetic of cost, savings, risk and confidence. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .domain import Instance, UnknownInstanceType

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "prices.json"
HOURS_PER_MONTH = 730
# Expected interruption probability per Spot Instance Advisor band.
INTERRUPTION_RISK = {"<5%": 0.03, "5-10%": 0.075, "10-15%": 0.125, "15-20%": 0.175, ">20%": 0.25}


@dataclass(frozen=True)
class Price:
    on_demand: float
    spot: float
    interruption: str

    @property
    def risk(self) -> float:
        return INTERRUPTION_RISK.get(self.interruption, 0.25)


class Catalogue:
    """Hourly prices per region and instance type, with where they come from."""

    def __init__(self, data: dict) -> None:
        self.source: str = data["source"]
        self.as_of: str = data["as_of"]
        self.currency: str = data.get("currency", "USD")
        self.cross_cloud_data: dict | None = data.get("cross_cloud")
        self.raw = data
        self._prices = {
            region: {t: Price(p["on_demand"], p["spot"], p.get("interruption", ">20%"))
                     for t, p in types.items()}
            for region, types in data["regions"].items()
        }

    @classmethod
    def load(cls, path: Path = DEFAULT_CATALOGUE) -> Catalogue:
        return cls(json.loads(path.read_text()))

    @property
    def regions(self) -> list[str]:
        return sorted(self._prices)

    def price(self, region: str, instance_type: str) -> Price:
        try:
            return self._prices[region][instance_type]
        except KeyError:
            raise UnknownInstanceType(region, instance_type) from None

    def hourly(self, inst: Instance) -> float:
        p = self.price(inst.region, inst.instance_type)
        return p.spot if inst.lifecycle == "spot" else p.on_demand

    def knows(self, inst: Instance) -> bool:
        return inst.instance_type in self._prices.get(inst.region, {})


def monthly(hourly: float) -> float:
    return round(hourly * HOURS_PER_MONTH, 2)


def fleet_monthly_cost(instances: Iterable[Instance], cat: Catalogue) -> float:
    """Cost of the priced instances; types missing from the catalogue count as unknown, not 0."""
    return monthly(sum(cat.hourly(i) for i in instances if cat.knows(i)))


@dataclass(frozen=True)
class Candidate:
    instance_id: str
    instance_type: str
    pool: str
    image_id: str
    on_demand_hourly: float
    spot_hourly: float
    risk: float


@dataclass(frozen=True)
class SpotPlan:
    candidates: tuple[Candidate, ...]
    current_monthly_cost: float
    projected_monthly_cost: float

    @property
    def savings(self) -> float:
        return round(self.current_monthly_cost - self.projected_monthly_cost, 2)

    @property
    def savings_pct(self) -> float:
        if self.current_monthly_cost <= 0:
            return 0.0
        return round(self.savings / self.current_monthly_cost, 4)

    @property
    def risk(self) -> float:
        """Interruption risk weighted by the on-demand spend it replaces."""
        spend = sum(c.on_demand_hourly for c in self.candidates)
        if not spend:
            return 0.0
        return round(sum(c.risk * c.on_demand_hourly for c in self.candidates) / spend, 4)


def spot_plan(instances: Iterable[Instance], cat: Catalogue) -> SpotPlan:
    """Move every running on-demand instance with a cheaper spot price to spot."""
    fleet = [i for i in instances if i.state in ("pending", "running") and cat.knows(i)]
    cands = []
    for inst in fleet:
        if inst.lifecycle == "spot":
            continue
        p = cat.price(inst.region, inst.instance_type)
        if p.spot < p.on_demand:
            cands.append(Candidate(inst.instance_id, inst.instance_type, inst.pool,
                                   inst.image_id, p.on_demand, p.spot, p.risk))
    current = fleet_monthly_cost(fleet, cat)
    projected = monthly(sum(cat.hourly(i) for i in fleet)
                        - sum(c.on_demand_hourly - c.spot_hourly for c in cands))
    return SpotPlan(tuple(cands), current, projected)


def risk_level(risk: float) -> str:
    return "low" if risk < 0.06 else "medium" if risk < 0.15 else "high"


def confidence(risk: float, similar: Iterable[tuple[float, str]]) -> float:
    """Confidence from interruption risk, raised by similar successes, lowered by rollbacks.

    ``similar`` holds (similarity score, outcome) of past cases.
    """
    base = min(0.8, max(0.3, 0.9 - 1.5 * risk))
    bonus = 0.0
    for score, outcome in similar:
        if score < 0.8:
            continue
        bonus += 0.04 * score if outcome == "completed" else -0.05 * score
    return round(min(0.98, max(0.05, base + max(-0.3, min(0.15, bonus)))), 4)
