"""Performance agent task handlers."""

from __future__ import annotations

from dataclasses import asdict

from ...common import gates
from ...common.messages import Task
from ...common.metrics import Metrics
from ...common.settings import Settings
from ..runtime import Handler
from ..waiting import wait_for_samples

BASELINE_WINDOW_S = 120


class PerformanceAgent:
    def __init__(self, metrics: Metrics, settings: Settings) -> None:
        self.metrics, self.settings = metrics, settings

    def analyze(self, task: Task) -> dict:
        stats = self.metrics.pool_stats(task.customer_id, BASELINE_WINDOW_S)
        return {"summary": {"pools": {p: asdict(s) for p, s in stats.items()}},
                "recommendations": []}

    def validate_recommendation(self, task: Task) -> dict:
        pools = task.payload["pools"]
        stats = wait_for_samples(
            lambda: self.metrics.pool_stats(task.customer_id, BASELINE_WINDOW_S, "on_demand"),
            pools, 3, self.settings.metrics_wait_s)
        v = gates.predicted_latency_impact({p: stats[p] for p in pools},
                                           float(task.payload.get("risk", 0.0)))
        return {"verdict": v.verdict, "reason": v.reason, "data": v.data}

    def validate_step(self, task: Task) -> dict:
        pct, opt = int(task.payload["traffic_pct"]), task.payload["optimization_id"]
        baseline: dict[str, float] = task.payload.get("baseline_p95_ms", {})
        pools = task.payload["pools"]
        stats = wait_for_samples(lambda: self.metrics.step_stats(task.customer_id, opt, pct),
                                 pools, 2, self.settings.metrics_wait_s)
        verdicts = {p: gates.latency_step(stats[p], float(baseline.get(p, 0.0)), pct)
                    for p in pools}
        bad = [f"{p}: {v.reason}" for p, v in verdicts.items() if not v.approved]
        data = {p: v.data for p, v in verdicts.items()}
        if bad:
            return {"verdict": "reject", "reason": "; ".join(bad), "data": data}
        return {"verdict": "approve", "reason": f"latency within bounds at {pct}%",
                "data": data}

    def handlers(self) -> dict[str, Handler]:
        return {"analyze": self.analyze, "validate_recommendation": self.validate_recommendation,
                "validate_step": self.validate_step}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    metrics = Metrics(settings.clickhouse_host, settings.clickhouse_port)
    metrics.ensure_schema()
    return PerformanceAgent(metrics, settings).handlers()
