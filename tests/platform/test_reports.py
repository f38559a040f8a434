"""The savings report's arithmetic."""

from __future__ import annotations

from optiinfra.common.reports import savings_report


def row(i: int, kind: str, status: str, predicted: float, actual: float | None,
        before: float | None, after: float | None) -> dict:
    return {"id": f"o{i}", "recommendation_id": f"r{i}", "kind": kind, "status": status,
            "predicted_monthly_savings": predicted, "actual_monthly_savings": actual,
            "cost_before": before, "cost_after": after, "finished_at": None}


def test_only_completed_optimizations_count() -> None:
    rows = [row(1, "scale_out", "completed", -400.0, -400.0, 1000.0, 1400.0),
            row(2, "spot_migration", "rolled_back", 900.0, None, 1400.0, None),
            row(3, "spot_migration", "completed", 800.0, 760.0, 1400.0, 640.0)]
    r = savings_report(rows, 640.0, "USD")
    assert r["predicted_monthly_savings"] == 400.0
    assert r["realised_monthly_savings"] == 360.0
    assert r["prediction_error"] == 0.1
    assert r["baseline_monthly_cost"] == 1000.0
    assert r["monthly_cost_change"] == -360.0
    assert r["counts"]["completed"] == 2 and r["counts"]["rolled_back"] == 1
    assert r["by_kind"]["spot_migration"] == {"count": 1, "predicted_monthly_savings": 800.0,
                                              "realised_monthly_savings": 760.0}
    assert [o["id"] for o in r["optimizations"]] == ["o1", "o2", "o3"]


def test_an_empty_history_has_no_baseline() -> None:
    r = savings_report([], 500.0, "USD")
    assert r["baseline_monthly_cost"] is None and r["monthly_cost_change"] is None
    assert r["prediction_error"] is None and r["current_monthly_cost"] == 500.0
