"""The savings report: what the customer's optimizations promised and what they delivered.
Pure: the orchestrator feeds it rows and the live monthly cost."""

from __future__ import annotations

from collections import Counter
from typing import Any


def savings_report(rows: list[dict[str, Any]], current_monthly_cost: float,
                   currency: str) -> dict[str, Any]:
    """``rows``: optimizations, oldest first, each with ``kind``. Only completed ones count
    towards the savings; ``baseline_monthly_cost`` is the cost before the first of them."""
    done = [r for r in rows if r["status"] == "completed"]
    predicted = round(sum(float(r["predicted_monthly_savings"]) for r in done), 2)
    realised = round(sum(float(r["actual_monthly_savings"] or 0.0) for r in done), 2)
    baseline = float(done[0]["cost_before"]) if done and done[0]["cost_before"] is not None \
        else None
    by_status = Counter(r["status"] for r in rows)
    by_kind: dict[str, dict[str, float]] = {}
    for r in done:
        k = by_kind.setdefault(r["kind"], {"count": 0, "predicted_monthly_savings": 0.0,
                                           "realised_monthly_savings": 0.0})
        k["count"] += 1
        k["predicted_monthly_savings"] = round(
            k["predicted_monthly_savings"] + float(r["predicted_monthly_savings"]), 2)
        k["realised_monthly_savings"] = round(
            k["realised_monthly_savings"] + float(r["actual_monthly_savings"] or 0.0), 2)
    return {
        "currency": currency,
        "optimizations": [{
            "id": r["id"], "recommendation_id": r["recommendation_id"], "kind": r["kind"],
            "status": r["status"],
            "predicted_monthly_savings": float(r["predicted_monthly_savings"]),
            "actual_monthly_savings": None if r["actual_monthly_savings"] is None
            else float(r["actual_monthly_savings"]),
            "cost_before": None if r["cost_before"] is None else float(r["cost_before"]),
            "cost_after": None if r["cost_after"] is None else float(r["cost_after"]),
            "finished_at": r["finished_at"]} for r in rows],
        "counts": {s: by_status.get(s, 0) for s in ("completed", "rolled_back", "failed",
                                                    "pending", "running")},
        "by_kind": by_kind,
        "predicted_monthly_savings": predicted,
        "realised_monthly_savings": realised,
        "prediction_error": round(abs(realised - predicted) / abs(predicted), 4)
        if predicted else None,
        "baseline_monthly_cost": baseline,
        "current_monthly_cost": current_monthly_cost,
        "monthly_cost_change": None if baseline is None
        else round(current_monthly_cost - baseline, 2),
    }
