"""The agents' decision rules: each returns a ``Verdict``. Pure, so tests need no datastore."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    verdict: str  # approve | reject
    reason: str
    data: dict = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.verdict == "approve"


def approve(reason: str, **data: object) -> Verdict:
    return Verdict("approve", reason, dict(data))


def reject(reason: str, **data: object) -> Verdict:
    return Verdict("reject", reason, dict(data))


@dataclass(frozen=True)
class PoolStats:
    """Aggregates of one pool (or variant) over a window of workload samples."""

    samples: int
    latency_p95_ms: float = 0.0
    error_rate: float = 0.0
    quality_score: float = 0.0
    utilization: float = 0.0


MAX_PREDICTED_LATENCY_RATIO = 1.25
MAX_STEP_LATENCY_RATIO = 1.5
MAX_ERROR_RATE = 0.05
MAX_UTILIZATION = 0.85


def predicted_latency_impact(baseline: dict[str, PoolStats], risk: float) -> Verdict:
    """Performance: spot keeps the instance types, so latency moves only by interruptions,
    modelled as a p95 penalty proportional to the interruption risk."""
    if not baseline or any(s.samples == 0 for s in baseline.values()):
        return reject("no latency history for the fleet")
    factor = 1 + 0.5 * risk
    predicted = {p: round(s.latency_p95_ms * factor, 2) for p, s in baseline.items()}
    base = {p: round(s.latency_p95_ms, 2) for p, s in baseline.items()}
    if factor > MAX_PREDICTED_LATENCY_RATIO:
        return reject(f"predicted p95 latency +{(factor - 1):.0%} exceeds "
                      f"+{MAX_PREDICTED_LATENCY_RATIO - 1:.0%}", baseline_p95_ms=base,
                      predicted_p95_ms=predicted)
    return approve(f"predicted p95 latency impact +{(factor - 1):.1%}",
                   baseline_p95_ms=base, predicted_p95_ms=predicted)


def quality_baseline(stats: PoolStats, threshold: float) -> Verdict:
    """Application: the fleet must serve above the quality threshold before we touch it."""
    if stats.samples == 0:
        return reject("no quality history for the fleet")
    q = round(stats.quality_score, 4)
    if q < threshold:
        return reject(f"baseline quality {q} below threshold {threshold}",
                      baseline_quality=q, threshold=threshold)
    return approve(f"baseline quality {q} >= {threshold}", baseline_quality=q,
                   threshold=threshold)


def capacity(stats: dict[str, PoolStats]) -> Verdict:
    """Resource: replacements are 1:1, so the fleet needs headroom for an interruption."""
    if not stats or any(s.samples == 0 for s in stats.values()):
        return reject("no utilisation history for the fleet")
    util = {p: round(s.utilization, 4) for p, s in stats.items()}
    hot = {p: u for p, u in util.items() if u > MAX_UTILIZATION}
    if hot:
        return reject(f"pools above {MAX_UTILIZATION:.0%} utilisation: {sorted(hot)}",
                      utilization=util)
    return approve("capacity headroom in every pool", utilization=util)


def quality_step(stats: PoolStats, threshold: float, pct: int) -> Verdict:
    """Application: gate a traffic step on the new variant's quality."""
    if stats.samples == 0:
        return reject(f"no samples of the spot variant at {pct}% traffic")
    q = round(stats.quality_score, 4)
    if q < threshold:
        return reject(f"quality {q} below threshold {threshold} at {pct}% traffic",
                      quality_score=q)
    return approve(f"quality {q} at {pct}% traffic", quality_score=q)


def latency_step(stats: PoolStats, baseline_p95_ms: float, pct: int) -> Verdict:
    """Performance: the new variant's p95 and error rate stay near the baseline."""
    if stats.samples == 0:
        return reject(f"no samples of the spot variant at {pct}% traffic")
    p95, err = round(stats.latency_p95_ms, 2), round(stats.error_rate, 4)
    data = {"latency_p95_ms": p95, "error_rate": err, "baseline_p95_ms": baseline_p95_ms}
    if baseline_p95_ms > 0 and p95 > baseline_p95_ms * MAX_STEP_LATENCY_RATIO:
        return reject(f"p95 {p95} ms over {MAX_STEP_LATENCY_RATIO}x baseline "
                      f"{baseline_p95_ms} ms at {pct}% traffic", **data)
    if err > MAX_ERROR_RATE:
        return reject(f"error rate {err} over {MAX_ERROR_RATE} at {pct}% traffic", **data)
    return approve(f"p95 {p95} ms, error rate {err} at {pct}% traffic", **data)


MAX_SAVINGS_DRIFT = 0.10


def savings_still_hold(estimated: float, repriced: float, missing: list[str]) -> Verdict:
    """Cost: re-priced against the live fleet, the proposal still saves what it promised."""
    data = {"estimated_monthly_savings": round(estimated, 2),
            "repriced_monthly_savings": round(repriced, 2), "missing_instances": missing}
    if missing:
        return reject(f"{len(missing)} candidate instance(s) no longer running on-demand: "
                      f"{missing[:3]}", **data)
    if estimated <= 0 or repriced <= 0:
        return reject(f"no savings left: ${repriced:,.2f}/month re-priced", **data)
    drift = abs(repriced - estimated) / estimated
    data["drift"] = round(drift, 4)
    if drift > MAX_SAVINGS_DRIFT:
        return reject(f"re-priced savings ${repriced:,.2f}/month differ {drift:.1%} from the "
                      f"estimate ${estimated:,.2f} (limit {MAX_SAVINGS_DRIFT:.0%})", **data)
    return approve(f"re-priced savings ${repriced:,.2f}/month (estimate ${estimated:,.2f}, "
                   f"drift {drift:.1%})", **data)
