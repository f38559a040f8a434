"""The history of runs (artifacts/history.jsonl) and the summary's section over it."""

from __future__ import annotations

import json

import pytest

from harness.reporting import PhaseTiming, TestRecord
from harness.reporting._history import (
    HistoryRecord,
    group_runs,
    history_records,
    load_history,
    render_history_section,
    sparkline,
    update_history,
)

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-03")]


def rec(nodeid: str, outcome: str = "passed", secs: float = 1.0, **kw) -> TestRecord:
    return TestRecord(nodeid=nodeid, outcome=outcome, duration_s=secs, **kw)


def run(rid: str, *records: TestRecord) -> list[HistoryRecord]:
    return history_records(rid, records, at="2026-01-01T00:00:00+00:00")


def test_a_run_writes_one_line_per_test_that_ran():
    lines = run("r1", rec("s/a.py::t", "flaky", 2.5, phases=[PhaseTiming(1, "Setup", "passed",
                                                                        2.0)]),
                rec("s/a.py::u", "not run"), rec("s/b.py::v", "failed"))
    assert [(h.nodeid, h.outcome, h.flaky) for h in lines] == [
        ("s/a.py::t", "flaky", True), ("s/b.py::v", "failed", False)]
    assert lines[0].phases == [{"number": 1, "title": "Setup", "outcome": "passed",
                                "duration_s": 2.0}]


def test_a_run_that_writes_again_replaces_its_lines_and_old_runs_are_pruned(tmp_path):
    path = tmp_path / "history.jsonl"
    for i in range(4):
        update_history(path, run(f"r{i}", rec("s/a.py::t")), keep_runs=3)
    runs = update_history(path, run("r3", rec("s/a.py::t", "failed"), rec("s/a.py::u")),
                          keep_runs=3)
    assert [r.run_id for r in runs] == ["r1", "r2", "r3"]
    assert [(h.run_id, h.nodeid, h.outcome) for h in load_history(path)][-2:] == [
        ("r3", "s/a.py::t", "failed"), ("r3", "s/a.py::u", "passed")]
    assert not list(tmp_path.glob(".history.jsonl.tmp*"))  # written atomically


def test_a_line_cut_short_by_a_killed_run_is_skipped(tmp_path):
    path = tmp_path / "history.jsonl"
    update_history(path, run("r1", rec("s/a.py::t")), keep_runs=0)
    with path.open("a") as f:
        f.write('{"run_id": "r2", "nodeid": "s/a.py::t", "outc')
    assert [h.run_id for h in load_history(path)] == ["r1"]


def test_the_summary_section_shows_pass_rate_flaky_tests_and_slowest_trend():
    history = (run("r1", rec("s/slow.py::t", secs=30), rec("s/fast.py::t", secs=1))
               + run("r2", rec("s/slow.py::t", "flaky", 40), rec("s/fast.py::t", "failed", 1))
               + run("r3", rec("s/slow.py::t", secs=35), rec("s/fast.py::t", "skipped", 0)))
    text = render_history_section(group_runs(history))
    assert "## History (last 3 runs" in text
    assert "| `r2` | 2 | 0 | 1 | 1 | 50% |" in text  # flaky passes, counted apart
    assert "| `r3` | 1 | 1 | 0 | 0 | 100% |" in text  # a skip is not a run test
    assert "- `s/slow.py::t`: flaky in 1 of 3 runs" in text
    slow = next(line for line in text.splitlines() if line.startswith("| `s/slow.py`"))
    assert slow.endswith("| 30.0 | 35.0 | 40.0 |") and "`▁█▄`" in slow


def test_sparkline_scales_to_the_range_and_leaves_gaps():
    assert sparkline([1.0, None, 8.0]) == "▁ █"
    assert sparkline([]) == ""


def test_every_session_adds_to_the_history_and_the_summary_shows_it(pytester, run_dir,
                                                                    monkeypatch):
    pytester.makepyfile(test_some="def test_ok():\n    pass\n")
    for n in (1, 2):
        monkeypatch.setenv("E2E_RUN_ID", f"20260101T00000{n}Z-run{n}")
        pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    history = [json.loads(line) for line in
               (pytester.path / "artifacts" / "history.jsonl").read_text().splitlines()]
    assert [h["run_id"] for h in history] == ["20260101T000001Z-run1", "20260101T000002Z-run2"]
    summary = (pytester.path / "artifacts" / "latest" / "summary.md").read_text()
    assert "## History (last 2 runs" in summary
    assert (pytester.path / "artifacts" / "latest" / "report.html").is_file()
