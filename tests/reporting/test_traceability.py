"""Requirement markers -> traceability matrix and one-page summary, after every run."""

from __future__ import annotations

import json

import pytest

from harness.core import ConfigError
from harness.reporting import (
    Catalogue,
    PhaseTiming,
    TestRecord,
    build_matrix,
    merge_records,
)
from tests.reporting.conftest import RUN_ID

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-03")]

CATALOGUE = """
[spot_migration]
REQ-SPOT-01 = "Spot migration reduces the monthly cost by at least 30%"
REQ-SPOT-02 = "Savings within 20% of the prediction"

[isolation]
REQ-ISO-01 = "No token -> 401"
REQ-ISO-02 = "Another customer's ids -> 404"

[future]
REQ-CLOUD-01 = "Cross-cloud optimization"
"""

SUITE = """
    import pytest
    from harness import phase

    @pytest.mark.req("REQ-SPOT-01", "REQ-SPOT-02")
    def test_spot_journey():
        with phase(1, "Recording initial state"):
            pass
        with phase(8, "Validating cost savings"):
            assert 9800 < 9800 * 0.7, "cost did not drop"

    @pytest.mark.req("REQ-SPOT-01")
    def test_spot_cost_quick():
        pass

    @pytest.mark.req("REQ-ISO-01")
    def test_no_token_is_401():
        pass

    @pytest.mark.slow
    @pytest.mark.req("REQ-ISO-02")
    def test_isolation_slow():
        pass

    def test_without_requirement():
        pass
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", requirements=CATALOGUE)
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_matrix_lists_covered_and_uncovered_requirements_with_outcomes(project, run_dir):
    result = project.runpytest("-p", "no:randomly", "-m", "not slow")
    result.assert_outcomes(passed=3, failed=1)
    data = json.loads((run_dir / "traceability.json").read_text())
    rows = {r["id"]: r for r in data["requirements"]}
    assert [r["id"] for r in data["requirements"]] == [
        "REQ-SPOT-01", "REQ-SPOT-02", "REQ-ISO-01", "REQ-ISO-02", "REQ-CLOUD-01"]
    assert rows["REQ-SPOT-01"]["status"] == "failed"
    assert rows["REQ-SPOT-01"]["tests"] == [
        {"nodeid": "test_suite.py::test_spot_cost_quick", "outcome": "passed"},
        {"nodeid": "test_suite.py::test_spot_journey", "outcome": "failed"}]
    assert rows["REQ-SPOT-02"]["status"] == "failed"
    assert rows["REQ-ISO-01"]["status"] == "passed"
    assert rows["REQ-ISO-02"]["status"] == "not run"  # its only test was deselected
    assert rows["REQ-CLOUD-01"] == {"id": "REQ-CLOUD-01", "description":
                                    "Cross-cloud optimization", "area": "future",
                                    "status": "uncovered", "tests": []}
    assert data["totals"] == {"passed": 1, "failed": 2, "skipped": 0, "not run": 1,
                              "uncovered": 1}
    assert data["tests_without_requirement"] == ["test_suite.py::test_without_requirement"]

    md = (run_dir / "traceability.md").read_text()
    assert "| REQ-SPOT-01 | Spot migration reduces the monthly cost by at least 30% | FAILED | " \
           "`test_suite.py::test_spot_cost_quick` (passed)<br>" \
           "`test_suite.py::test_spot_journey` (failed) |" in md
    assert "| REQ-CLOUD-01 | Cross-cloud optimization | UNCOVERED | - |" in md
    assert "## Uncovered (1)\n\n- REQ-CLOUD-01: Cross-cloud optimization" in md
    assert "## spot migration" in md


def test_summary_names_failures_phases_and_requirements(project, run_dir):
    result = project.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=1)
    summary = (run_dir / "summary.md").read_text()
    assert summary.startswith(f"# E2E run `{RUN_ID}`: FAILED\n\n4 passed, 1 failed in ")
    assert "| `test_suite.py` | FAIL | 4 | 1 | 0 |" in summary
    assert "- `test_suite.py::test_spot_journey`: **failed in PHASE 8: Validating cost " \
           "savings**" in summary
    assert "cost did not drop" in summary
    assert f"failure bundle: `{run_dir}/test_suite.py__test_spot_journey`" in summary
    assert "| `test_spot_journey` | failed | 1: 0.0 · 8: 0.0 **failed** | 0.0 |" in summary
    assert "## Slowest phases (top 2)" in summary
    assert "- failed: REQ-SPOT-01, REQ-SPOT-02" in summary
    assert "- uncovered: REQ-CLOUD-01" in summary
    # the latest run's reports are also where a nightly job finds them without the run id
    latest = run_dir.parent / "latest"
    assert (latest / "summary.md").read_text() == summary
    assert (latest / "RUN_ID").read_text().strip() == RUN_ID
    result.stdout.fnmatch_lines([f"[[]reports] *{RUN_ID}/summary.md ; traceability: "
                                 f"traceability.md, traceability.json*"])


def test_summary_and_matrix_exist_after_a_passing_run(project, run_dir):
    project.runpytest("-p", "no:randomly", "-k", "quick or 401").assert_outcomes(passed=2)
    summary = (run_dir / "summary.md").read_text()
    assert summary.startswith(f"# E2E run `{RUN_ID}`: PASSED\n\n2 passed in ")
    assert "Failures" not in summary
    data = json.loads((run_dir / "traceability.json").read_text())
    assert {r["id"]: r["status"] for r in data["requirements"]} == {
        "REQ-SPOT-01": "passed", "REQ-SPOT-02": "not run", "REQ-ISO-01": "passed",
        "REQ-ISO-02": "not run", "REQ-CLOUD-01": "uncovered"}


def test_unknown_requirement_id_is_a_clear_collection_error(pytester, run_dir):
    pytester.makefile(".toml", requirements=CATALOGUE)
    pytester.makepyfile(test_typo="""
        import pytest

        @pytest.mark.req("REQ-SPOT-01", "REQ-SPOTT-01")
        def test_typo():
            pass
    """)
    result = pytester.runpytest("-p", "no:randomly", "--strict-markers", "-W", "error")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR collecting test_typo.py*",
        "test_typo.py::test_typo: unknown requirement id(s) REQ-SPOTT-01 in "
        "@pytest.mark.req: *requirements.toml lists 5 requirements (REQ-SPOT-01, *",
    ])
    assert "Traceback" not in result.stdout.str()
    assert "warning" not in result.stdout.str().lower()
    assert (run_dir / "traceability.md").exists()  # reports are written even then


def test_req_marker_without_ids_is_a_collection_error(pytester):
    pytester.makefile(".toml", requirements=CATALOGUE)
    pytester.makepyfile(test_empty="""
        import pytest

        @pytest.mark.req
        def test_empty():
            pass
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.req takes requirement ids as strings*"])


def test_req_marker_passes_strict_markers_and_shows_in_markers(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.req(*ids): the requirements this test checks*"])


def test_without_a_catalogue_every_id_is_listed_as_not_catalogued(pytester, run_dir):
    pytester.makepyfile(test_free="""
        import pytest

        @pytest.mark.req("REQ-ANY-01")
        def test_free():
            pass
    """)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)
    data = json.loads((run_dir / "traceability.json").read_text())
    assert data["catalogue"] == "(no catalogue file)"
    assert data["requirements"][0]["area"] == "not catalogued"
    assert data["requirements"][0]["status"] == "passed"


def test_bad_catalogue_is_a_usage_error(pytester):
    pytester.makefile(".toml", requirements='[spot]\nspot-one = "lowercase id"\n')
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*requirements.toml [[]spot]: 'spot-one' must look like "
                                 "REQ-AREA-01 = *"])


def test_xdist_workers_ship_outcomes_and_phases_to_the_controller(project, run_dir):
    result = project.runpytest("-p", "no:randomly", "-n", "2", "-m", "not slow")
    result.assert_outcomes(passed=3, failed=1)
    data = json.loads((run_dir / "traceability.json").read_text())
    assert {r["id"]: r["status"] for r in data["requirements"]} == {
        "REQ-SPOT-01": "failed", "REQ-SPOT-02": "failed", "REQ-ISO-01": "passed",
        "REQ-ISO-02": "not run", "REQ-CLOUD-01": "uncovered"}
    summary = (run_dir / "summary.md").read_text()
    assert "**failed in PHASE 8: Validating cost savings**" in summary
    assert (run_dir / "test_suite.py__test_spot_journey" / "story.md").exists()
    assert not (run_dir / ".collected").exists()  # the hand-over goes through workeroutput


# -- the pieces, without pytest in between ----------------------------------------------------

def test_catalogue_rejects_duplicates(tmp_path):
    path = tmp_path / "requirements.toml"
    path.write_text('[a]\nREQ-A-01 = "x"\n[b]\nREQ-A-01 = "y"\n')
    with pytest.raises(ConfigError, match="REQ-A-01 is listed twice"):
        Catalogue.load(path)


def test_outcomes_roll_up_into_a_requirement_status(tmp_path):
    path = tmp_path / "requirements.toml"
    path.write_text('[a]\nREQ-A-01 = "x"\nREQ-A-02 = "y"\nREQ-A-03 = "z"\nREQ-A-04 = "w"\n')
    records = merge_records({
        "t::a": TestRecord("t::a", "skipped", ["REQ-A-01"]),
        "t::b": TestRecord("t::b", "xfailed", ["REQ-A-02"]),
        "t::c": TestRecord("t::c", "error", ["REQ-A-03"]),
        "t::d": TestRecord("t::d", "passed", ["REQ-A-03"],
                           phases=[PhaseTiming(1, "x", "passed", 0.1)]),
    }, {"t::e": ["REQ-A-04"], "t::a": ["REQ-A-01"]})
    matrix = build_matrix(Catalogue.load(path), records)
    assert {r.requirement.id: r.status for r in matrix.rows} == {
        "REQ-A-01": "skipped", "REQ-A-02": "passed", "REQ-A-03": "failed",
        "REQ-A-04": "not run"}
