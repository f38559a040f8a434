"""Application agent task handlers."""

from __future__ import annotations

from dataclasses import asdict

from ...common import gates
from ...common.gates import PoolStats
from ...common.messages import Task
from ...common.metrics import Metrics
from ...common.settings import Settings
from ..runtime import Handler
from ..waiting import wait_for_samples

BASELINE_WINDOW_S = 120


def _combined(stats: dict[str, PoolStats]) -> PoolStats:
    n = sum(s.samples for s in stats.values())
    if not n:
        return PoolStats(0)
    return PoolStats(n, quality_score=sum(s.quality_score * s.samples for s in stats.values()) / n)


class ApplicationAgent:
    def __init__(self, metrics: Metrics, settings: Settings) -> None:
        self.metrics, self.settings = metrics, settings

    def _threshold(self, task: Task) -> float:
        return float(task.payload.get("threshold") or self.settings.quality_threshold)

    def analyze(self, task: Task) -> dict:
        stats = self.metrics.fleet_stats(task.customer_id, BASELINE_WINDOW_S)
        q, threshold = round(stats.quality_score, 4), self._threshold(task)
        findings = [{"pool": "*", "metric": "quality_score", "value": q,
                     "threshold": threshold, "above_threshold": q >= threshold}
                    ] if stats.samples else []
        return {"summary": {"baseline_quality": q, "samples": stats.samples,
                            "threshold": threshold, "findings": findings},
                "recommendations": []}

    def validate_recommendation(self, task: Task) -> dict:
        pools = task.payload["pools"]
        stats = wait_for_samples(
            lambda: self.metrics.pool_stats(task.customer_id, BASELINE_WINDOW_S, "on_demand"),
            pools, 3, self.settings.metrics_wait_s)
        v = gates.quality_baseline(_combined({p: stats[p] for p in pools}),
                                   self._threshold(task))
        return {"verdict": v.verdict, "reason": v.reason, "data": v.data}

    def validate_step(self, task: Task) -> dict:
        pct, opt = int(task.payload["traffic_pct"]), task.payload["optimization_id"]
        pools = task.payload["pools"]
        stats = wait_for_samples(lambda: self.metrics.step_stats(task.customer_id, opt, pct),
                                 pools, 2, self.settings.metrics_wait_s)
        threshold = self._threshold(task)
        verdicts = {p: gates.quality_step(stats[p], threshold, pct) for p in pools}
        bad = [f"{p}: {v.reason}" for p, v in verdicts.items() if not v.approved]
        overall = _combined({p: stats[p] for p in pools})
        data = {"pools": {p: asdict(stats[p]) for p in pools},
                "quality_score": round(overall.quality_score, 4), "threshold": threshold}
        if bad:
            return {"verdict": "reject", "reason": "; ".join(bad), "data": data}
        return {"verdict": "approve",
                "reason": f"quality {data['quality_score']} >= {threshold} at {pct}%",
                "data": data}

    def handlers(self) -> dict[str, Handler]:
        return {"analyze": self.analyze, "validate_recommendation": self.validate_recommendation,
                "validate_step": self.validate_step}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    metrics = Metrics(settings.clickhouse_host, settings.clickhouse_port)
    metrics.ensure_schema()
    return ApplicationAgent(metrics, settings).handlers()
