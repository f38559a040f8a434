"""Resource agent task handlers."""

from __future__ import annotations

from dataclasses import asdict

from ...common import gates, scaling
from ...common.messages import Task
from ...common.metrics import Metrics
from ...common.pricing import Catalogue, monthly
from ...common.settings import Settings
from ..runtime import Handler
from ..waiting import wait_for_samples

WINDOW_S = 120
RECENT_WINDOW_S = 10  # a pool's load now, as the performance agent judges it
CONSOLIDATION_CONFIDENCE = 0.75


class ResourceAgent:
    def __init__(self, metrics: Metrics, settings: Settings,
                 catalogue: Catalogue | None = None) -> None:
        self.metrics, self.settings = metrics, settings
        self.cat = catalogue or Catalogue.load()

    def _consolidation(self, plan: scaling.ConsolidationPlan, region: str) -> dict:
        hourly = self.cat.price(region, plan.instance_type).on_demand
        return scaling.pool_recommendation(
            "consolidation", monthly(hourly * plan.remove), CONSOLIDATION_CONFIDENCE, region,
            plan, self.cat, remove=plan.remove, on_demand_hourly=hourly)

    def analyze(self, task: Task) -> dict:
        stats = self.metrics.pool_stats(task.customer_id, WINDOW_S)
        return {"summary": {"utilization": {p: round(s.utilization, 4)
                                            for p, s in stats.items()},
                            "pools": {p: asdict(s) for p, s in stats.items()},
                            "findings": [{"pool": p, "metric": "utilization",
                                          "value": round(s.utilization, 4),
                                          "headroom": s.utilization <= gates.MAX_UTILIZATION}
                                         for p, s in sorted(stats.items())]},
                "recommendations": [
                    self._consolidation(p, task.payload.get("region")
                                        or self.settings.aws_default_region)
                    for p in (scaling.consolidation_plan(s) for s in self.metrics.pool_shapes(
                        task.customer_id, RECENT_WINDOW_S)) if p is not None]}

    def validate_recommendation(self, task: Task) -> dict:
        pools = task.payload["pools"]
        stats = wait_for_samples(
            lambda: self.metrics.pool_stats(task.customer_id, WINDOW_S, "on_demand",
                                            current_size=True),
            pools, 3, self.settings.metrics_wait_s)
        v = gates.capacity({p: stats[p] for p in pools})
        return {"verdict": v.verdict, "reason": v.reason, "data": v.data}

    def handlers(self) -> dict[str, Handler]:
        return {"analyze": self.analyze, "validate_recommendation": self.validate_recommendation}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    metrics = Metrics(settings.clickhouse_host, settings.clickhouse_port)
    metrics.ensure_schema()
    return ResourceAgent(metrics, settings).handlers()
