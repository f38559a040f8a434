"""Performance agent task handlers."""

from __future__ import annotations

from dataclasses import asdict

from ...common import gates, scaling
from ...common.messages import Task
from ...common.metrics import Metrics
from ...common.pricing import Catalogue, monthly
from ...common.settings import Settings
from ..runtime import Handler
from ..waiting import wait_for_samples

BASELINE_WINDOW_S = 120
# A latency problem is judged on the last seconds, not diluted by the calm before it.
HOT_WINDOW_S = 10
SCALE_OUT_CONFIDENCE = 0.8


class PerformanceAgent:
    def __init__(self, metrics: Metrics, settings: Settings,
                 catalogue: Catalogue | None = None) -> None:
        self.metrics, self.settings = metrics, settings
        self.cat = catalogue or Catalogue.load()

    def _scale_out(self, plan: scaling.ScaleOutPlan, region: str) -> dict:
        """A recommendation: its 'savings' are negative, the price of the added instances."""
        hourly = self.cat.price(region, plan.instance_type).on_demand
        extra = monthly(hourly * plan.add)
        return scaling.pool_recommendation(
            "scale_out", -extra, SCALE_OUT_CONFIDENCE, region, plan, self.cat,
            add=plan.add, baseline_p95_ms=plan.latency_p95_ms,
            predicted_p95_ms=plan.predicted_p95_ms, on_demand_hourly=hourly,
            added_monthly_cost=extra)

    def analyze(self, task: Task) -> dict:
        stats = self.metrics.pool_stats(task.customer_id, BASELINE_WINDOW_S)
        findings = [{"pool": p, "metric": "latency_p95_ms", "value": round(s.latency_p95_ms, 2),
                     "error_rate": round(s.error_rate, 5)} for p, s in sorted(stats.items())]
        region = task.payload.get("region") or self.settings.aws_default_region
        plans = [p for p in (scaling.scale_out_plan(s) for s in self.metrics.pool_shapes(
            task.customer_id, HOT_WINDOW_S)) if p is not None]
        for plan in plans:
            findings.append({"pool": plan.pool, "metric": "utilization",
                             "value": plan.utilization, "hot": True})
        return {"summary": {"pools": {p: asdict(s) for p, s in stats.items()},
                            "findings": findings},
                "recommendations": [self._scale_out(p, region) for p in plans]}

    def validate_latency(self, task: Task) -> dict:
        """After a scale-out: the pool at its new size serves faster than before."""
        pool, size = task.payload["pool"], int(task.payload["instances"])
        stats = wait_for_samples(
            lambda: {pool: self.metrics.pool_latency_at_size(task.customer_id, pool, size,
                                                             HOT_WINDOW_S)},
            [pool], 3, self.settings.metrics_wait_s)
        v = scaling.latency_improved(float(task.payload["baseline_p95_ms"]),
                                     stats[pool].latency_p95_ms, stats[pool].samples)
        data = {**v.data, "pool": pool, "instances": size,
                "predicted_p95_ms": task.payload.get("predicted_p95_ms")}
        return {"verdict": v.verdict, "reason": f"{pool}: {v.reason}", "data": data}

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
                "validate_step": self.validate_step, "validate_latency": self.validate_latency}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    metrics = Metrics(settings.clickhouse_host, settings.clickhouse_port)
    metrics.ensure_schema()
    return PerformanceAgent(metrics, settings).handlers()
