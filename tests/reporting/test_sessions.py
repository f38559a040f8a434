"""One run, several pytest sessions (make test-e2e: the serial tests, then the rest): with
E2E_RUN_ID they share a folder, and the reports cover the whole run."""

from __future__ import annotations

import json

import pytest

from harness.reporting import (
    SESSIONS_FILE,
    RunSoFar,
    TestRecord,
    combine_sessions,
    combined_status,
)
from harness.reporting._sessions import add_session
from tests.reporting.fakes import CONFTEST

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-03")]

TESTS = """
    import pytest

    @pytest.mark.req("REQ-SPOT-01")
    def test_first():
        pass

    @pytest.mark.req("REQ-SPOT-02")
    def test_second():
        assert FAIL_SECOND is False

    FAIL_SECOND = {fail}
"""
RUN = "20260102T030405Z-e2e-42"


def run_in_two_sessions(pytester, monkeypatch, *, fail_second: bool):
    monkeypatch.setenv("E2E_RUN_ID", RUN)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_two=TESTS.format(fail=fail_second))
    first = pytester.runpytest("-p", "no:randomly", "-k", "first")
    second = pytester.runpytest("-p", "no:randomly", "-k", "second")
    return first, second, pytester.path / "artifacts" / RUN


def test_the_second_session_reports_both(pytester, monkeypatch):
    first, second, run_dir = run_in_two_sessions(pytester, monkeypatch, fail_second=False)
    first.assert_outcomes(passed=1, deselected=1)
    second.assert_outcomes(passed=1, deselected=1)
    matrix = json.loads((run_dir / "traceability.json").read_text())
    status = {r["id"]: r["status"] for r in matrix["requirements"]}
    assert status["REQ-SPOT-01"] == "passed" and status["REQ-SPOT-02"] == "passed", status
    summary = (run_dir / "summary.md").read_text()
    assert "PASSED" in summary.splitlines()[0] and "2 passed" in summary, summary
    latest = (pytester.path / "artifacts" / "latest" / "summary.md").read_text()
    assert latest == summary


def test_a_failure_in_either_session_fails_the_run(pytester, monkeypatch):
    _, second, run_dir = run_in_two_sessions(pytester, monkeypatch, fail_second=True)
    second.assert_outcomes(failed=1, deselected=1)
    summary = (run_dir / "summary.md").read_text()
    assert "FAILED" in summary.splitlines()[0] and "1 passed" in summary and "1 failed" in \
        summary, summary


def test_without_E2E_RUN_ID_a_session_reports_only_itself(pytester, run_dir):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_two=TESTS.format(fail=False))
    pytester.runpytest("-p", "no:randomly", "-k", "first")
    pytester.runpytest("-p", "no:randomly", "-k", "second")
    summary = (run_dir / "summary.md").read_text()
    assert "1 passed" in summary and "1 more collected but not run" in summary, summary
    assert not (run_dir / ".sessions.json").exists()


def test_a_serial_session_then_an_xdist_session_report_as_one_run(pytester, monkeypatch):
    """What make test does: sessions one after another (the last under xdist), one report."""
    monkeypatch.setenv("E2E_RUN_ID", RUN)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_two=TESTS.format(fail=False))
    pytester.runpytest("-p", "no:randomly", "-k", "first").assert_outcomes(passed=1,
                                                                           deselected=1)
    pytester.runpytest("-p", "no:randomly", "-n", "2", "-k", "second").assert_outcomes(passed=1)
    run_dir = pytester.path / "artifacts" / RUN
    matrix = json.loads((run_dir / "traceability.json").read_text())
    assert {r["id"]: r["status"] for r in matrix["requirements"]
            if r["id"] in ("REQ-SPOT-01", "REQ-SPOT-02")} == {
        "REQ-SPOT-01": "passed", "REQ-SPOT-02": "passed"}
    summary = (run_dir / "summary.md").read_text()
    assert "PASSED" in summary.splitlines()[0] and "2 passed" in summary, summary
    assert "not run" not in summary.split("## Requirements")[0], summary


# -- the pieces, without pytest in between ----------------------------------------------------

def test_a_test_counts_with_the_last_session_that_ran_it():
    earlier = [TestRecord("t::a", "failed"), TestRecord("t::b", "passed")]
    latest = [TestRecord("t::a", "passed"), TestRecord("t::b", "not run"),
              TestRecord("t::c", "not run")]
    combined = {r.nodeid: r.outcome for r in combine_sessions(earlier, latest)}
    assert combined == {"t::a": "passed", "t::b": "passed", "t::c": "not run"}


@pytest.mark.parametrize(("earlier", "latest", "run"), [
    (0, 0, 0), (1, 0, 1), (0, 1, 1), (5, 0, 0), (0, 5, 0), (5, 5, 5), (2, 1, 2)])
def test_a_failure_in_any_session_fails_the_run(earlier, latest, run):
    assert combined_status(earlier, latest) == run


def test_sessions_add_up_in_the_run_folder(tmp_path):
    first = RunSoFar([TestRecord("t::a", "passed", ["REQ-A-01"])], 2.0, 0)
    assert add_session(tmp_path, first) == first
    second = add_session(tmp_path, RunSoFar([TestRecord("t::b", "failed")], 3.0, 1))
    assert sorted(r.nodeid for r in second.records) == ["t::a", "t::b"]
    assert (second.duration_s, second.exit_status) == (5.0, 1)
    assert (tmp_path / SESSIONS_FILE).exists()
