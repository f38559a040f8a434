"""The seed's seven assertions. Each failure shows the numbers it compared and their source."""

from __future__ import annotations

from ._models import MetricsSummary, OptimizationPublic, RecommendationPublic
from ._waits import steps_table


def assert_optimization_successful(opt: OptimizationPublic, *,
                                   required_traffic: tuple[float, ...] = (10, 50, 100)) -> None:
    """Completed, every step completed, and the rollout went through each traffic step."""
    problems = []
    if opt.status != "completed":
        problems.append(f"status is '{opt.status}' (reason: {opt.reason or '-'}), "
                        "expected 'completed'")
    unfinished = [s.name for s in opt.steps if s.status != "completed"]
    if unfinished:
        problems.append(f"steps not completed: {unfinished}")
    if not opt.steps:
        problems.append("no execution steps recorded")
    seen = [s.traffic_pct for s in opt.steps if s.traffic_pct is not None]
    missing = [p for p in required_traffic if p not in seen]
    if missing:
        problems.append(f"rollout skipped traffic steps {missing} (steps went through {seen})")
    if problems:
        raise AssertionError(f"optimization {opt.id} not successful: " + "; ".join(problems)
                             + f"\n(source: GET /api/v1/optimizations/{opt.id})\n"
                             + steps_table(opt))


def assert_cost_reduced(before: float, after: float, min_pct: float) -> float:
    """Monthly cost fell by at least ``min_pct`` percent; returns the reduction in %."""
    if before <= 0:
        raise AssertionError(f"cost before is ${before:,.2f}; cannot measure a reduction")
    pct = (before - after) / before * 100
    if pct < min_pct:
        raise AssertionError(
            f"monthly cost fell {pct:.1f}% (${before:,.2f} -> ${after:,.2f}), expected at least "
            f"{min_pct:g}% (source: GET /api/v1/costs before and after)")
    return pct


def assert_latency_improved(before: MetricsSummary, after: MetricsSummary, *,
                            min_pct: float = 0.0) -> float:
    """p95 latency fell by more than ``min_pct`` percent; returns the improvement in %."""
    b, a = before.latency_p95_ms, after.latency_p95_ms
    if b is None or a is None or b <= 0:
        raise AssertionError(f"latency p95 missing (before={b}, after={a}) "
                             "(source: GET /api/v1/metrics/summary)")
    pct = (b - a) / b * 100
    if pct <= min_pct:
        raise AssertionError(f"latency p95 went {b:.1f} ms -> {a:.1f} ms ({pct:+.1f}% better), "
                             f"expected more than {min_pct:g}% better "
                             "(source: GET /api/v1/metrics/summary, ClickHouse-backed)")
    return pct


def assert_quality_maintained(quality: float | None, threshold: float = 0.90, *,
                              source: str = "GET /api/v1/optimizations/{id}") -> None:
    if quality is None or quality < threshold:
        raise AssertionError(f"quality score {quality} is below the threshold {threshold:g} "
                             f"(source: {source})")


def assert_multi_agent_coordination(rec: RecommendationPublic, min_agents: int = 2) -> list[str]:
    """At least ``min_agents`` distinct agents approved; returns their names."""
    agents = rec.approving_agents
    if len(agents) < min_agents:
        votes = [(v.agent, v.verdict, v.reason) for v in rec.validations]
        raise AssertionError(
            f"recommendation {rec.id} approved by {len(agents)} agent(s) {agents}, expected at "
            f"least {min_agents}; all validations: {votes} "
            f"(source: GET /api/v1/recommendations/{rec.id})")
    return agents


def assert_savings_match_prediction(predicted: float, actual: float,
                                    tolerance: float = 0.2) -> float:
    """|actual - predicted| / predicted <= tolerance; returns the relative error."""
    if predicted <= 0:
        raise AssertionError(f"predicted savings ${predicted:,.2f} is not positive")
    error = abs(actual - predicted) / predicted
    if error > tolerance:
        raise AssertionError(
            f"actual savings ${actual:,.2f}/month differ from the predicted ${predicted:,.2f} "
            f"by {error:.1%}, more than the {tolerance:.0%} tolerance "
            "(predicted: recommendation's estimated_monthly_savings; actual: cost before - "
            "after from GET /api/v1/costs)")
    return error


def assert_rollback_successful(opt: OptimizationPublic, *, cost_before: float | None = None,
                               cost_after: float | None = None, tolerance: float = 0.01) -> None:
    """Rolled back with a reason, and (when given) the cost is back to its baseline."""
    problems = []
    if opt.status != "rolled_back":
        problems.append(f"status is '{opt.status}', expected 'rolled_back'")
    if not opt.reason:
        problems.append("no rollback reason recorded")
    if cost_before is not None and cost_after is not None and cost_before > 0:
        drift = abs(cost_after - cost_before) / cost_before
        if drift > tolerance:
            problems.append(f"cost not back to baseline: ${cost_before:,.2f} before, "
                            f"${cost_after:,.2f} after ({drift:.1%} off)")
    if problems:
        raise AssertionError(f"rollback of optimization {opt.id} not successful: "
                             + "; ".join(problems) + "\n" + steps_table(opt))
