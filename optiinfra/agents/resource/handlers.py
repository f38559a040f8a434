"""Resource agent task handlers."""

from __future__ import annotations

from dataclasses import asdict

from ...common import gates
from ...common.messages import Task
from ...common.metrics import Metrics
from ...common.settings import Settings
from ..runtime import Handler
from ..waiting import wait_for_samples

WINDOW_S = 120


class ResourceAgent:
    def __init__(self, metrics: Metrics, settings: Settings) -> None:
        self.metrics, self.settings = metrics, settings

    def analyze(self, task: Task) -> dict:
        stats = self.metrics.pool_stats(task.customer_id, WINDOW_S)
        return {"summary": {"utilization": {p: round(s.utilization, 4)
                                            for p, s in stats.items()},
                            "pools": {p: asdict(s) for p, s in stats.items()}},
                "recommendations": []}

    def validate_recommendation(self, task: Task) -> dict:
        pools = task.payload["pools"]
        stats = wait_for_samples(
            lambda: self.metrics.pool_stats(task.customer_id, WINDOW_S, "on_demand"),
            pools, 3, self.settings.metrics_wait_s)
        v = gates.capacity({p: stats[p] for p in pools})
        return {"verdict": v.verdict, "reason": v.reason, "data": v.data}

    def handlers(self) -> dict[str, Handler]:
        return {"analyze": self.analyze, "validate_recommendation": self.validate_recommendation}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    metrics = Metrics(settings.clickhouse_host, settings.clickhouse_port)
    metrics.ensure_schema()
    return ResourceAgent(metrics, settings).handlers()
