"""Moving a pool to an equivalent instance type on another cloud: worth it only when the
monthly price difference exceeds the egress it adds and the amortised migration. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from .domain import Instance
from .pricing import Catalogue, monthly


@dataclass(frozen=True)
class Equivalent:
    cloud: str
    region: str
    instance_type: str
    on_demand: float


@dataclass(frozen=True)
class Move:
    """One pool's best cross-cloud option and its arithmetic (all USD per month unless
    named otherwise)."""

    pool: str
    instances: int
    from_cloud: str
    from_region: str
    from_instance_type: str
    from_hourly: float
    to_cloud: str
    to_region: str
    to_instance_type: str
    to_hourly: float
    compute_savings: float  # (from_hourly - to_hourly) x instances x 730
    egress_monthly: float  # instances x GB per instance-month x egress price per GB
    migration_one_time: float  # instances x migration cost per instance
    migration_monthly: float  # migration_one_time / amortisation months
    net_monthly_savings: float  # compute_savings - egress_monthly - migration_monthly

    @property
    def worth_it(self) -> bool:
        return self.net_monthly_savings > 0

    def as_dict(self) -> dict:
        return {**asdict(self), "worth_it": self.worth_it}


class CrossCloud:
    def __init__(self, cat: Catalogue, data: dict) -> None:
        self.cat = cat
        self.source: str = data["source"]
        self.sources: dict[str, dict] = data["sources"]
        self.egress_per_gb = float(data["egress_per_gb"])
        self.egress_gb = float(data["egress_gb_per_instance_month"])
        self.migration_cost = float(data["migration_cost_per_instance"])
        self.months = int(data["amortisation_months"])
        self.equivalents = {region: {t: [Equivalent(**e) for e in eqs]
                                     for t, eqs in types.items()}
                            for region, types in data["equivalents"].items()}

    def best(self, region: str, instance_type: str, clouds: Iterable[str]
             ) -> Equivalent | None:
        wanted = set(clouds)
        options = [e for e in self.equivalents.get(region, {}).get(instance_type, [])
                   if e.cloud in wanted]
        return min(options, key=lambda e: (e.on_demand, e.cloud), default=None)

    def moves(self, fleet: Iterable[Instance], clouds: Iterable[str]) -> list[Move]:
        """The best option of every single-type on-demand pool, worth it or not."""
        clouds = list(clouds)
        pools: dict[str, list[Instance]] = {}
        for inst in fleet:
            if inst.lifecycle != "spot" and inst.state in ("pending", "running"):
                pools.setdefault(inst.pool, []).append(inst)
        out = []
        for pool, members in sorted(pools.items()):
            types = Counter(i.instance_type for i in members)
            if len(types) != 1:
                continue  # a mixed pool has no single equivalent
            itype, n = types.most_common(1)[0]
            region = members[0].region
            eq = self.best(region, itype, clouds)
            if eq is None or not self.cat.knows(members[0]):
                continue
            here = self.cat.price(region, itype).on_demand
            compute = monthly((here - eq.on_demand) * n)
            egress = round(n * self.egress_gb * self.egress_per_gb, 2)
            once = round(n * self.migration_cost, 2)
            amortised = round(once / self.months, 2)
            out.append(Move(pool, n, "aws", region, itype, here, eq.cloud, eq.region,
                            eq.instance_type, eq.on_demand, compute, egress, once, amortised,
                            round(compute - egress - amortised, 2)))
        return out
