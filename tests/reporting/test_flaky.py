"""Flaky is its own outcome: with ``--reruns 1`` (nightly, release candidates) a test that
fails once and passes on the retry is FLAKY in the summary, JUnit and history, with its first
attempt's bundle kept; without ``--reruns`` (``make test``) nothing is retried."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from harness.reporting._flaky import junit_address

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-02")]

TESTS = """
    from pathlib import Path

    def test_flaky(tmp_path_factory):
        marker = Path(__file__).with_name("attempted")
        first = not marker.exists()
        marker.write_text("x")
        assert not first, "the service was not ready yet"

    def test_broken():
        assert 1 == 2, "always wrong"

    def test_fine():
        pass
"""


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if k != "seconds"}


@pytest.fixture
def flaky_run(pytester: pytest.Pytester):
    pytester.makepyfile(test_some=TESTS)
    result = pytester.runpytest("-p", "no:randomly", "--reruns", "1",
                                "--junitxml", str(pytester.path / "junit.xml"))
    return result, pytester.path / "artifacts"


def test_a_pass_on_retry_is_flaky_in_the_terminal_summary_and_history(flaky_run, run_dir):
    result, root = flaky_run
    assert outcomes(result) == {"passed": 2, "failed": 1, "rerun": 2}
    result.stdout.fnmatch_lines(["*FLAKY (passed only on retry): test_some.py::test_flaky: "
                                 "passed on retry; attempt 1 failed (call): AssertionError*"])
    summary = (run_dir / "summary.md").read_text()
    # a failure elsewhere keeps the verdict FAILED; the flaky test still counts apart
    assert "FAILED" in summary.splitlines()[0]
    assert "1 passed, 1 flaky, 1 failed" in summary
    assert "## Flaky (1): failed, then passed on retry" in summary
    records = {r["nodeid"]: r for r in json.loads((run_dir / "records.json").read_text())
               ["records"]}
    assert records["test_some.py::test_flaky"]["outcome"] == "flaky"
    assert records["test_some.py::test_broken"]["outcome"] == "failed"
    history = [json.loads(line) for line in (root / "history.jsonl").read_text().splitlines()]
    assert {h["nodeid"]: h["flaky"] for h in history} == {
        "test_some.py::test_broken": False, "test_some.py::test_fine": False,
        "test_some.py::test_flaky": True}


def test_the_first_attempts_bundle_is_kept_and_listed(flaky_run, run_dir):
    _, _ = flaky_run
    record = next(r for r in json.loads((run_dir / "records.json").read_text())["records"]
                  if r["nodeid"] == "test_some.py::test_flaky")
    assert record["bundle"].endswith("test_some.py__test_flaky")
    error = (run_dir / "test_some.py__test_flaky" / "error.txt").read_text()
    assert "the service was not ready yet" in error
    assert f"first attempt's failure bundle: `{record['bundle']}`" in (
        run_dir / "summary.md").read_text()


def test_junit_marks_flaky_and_rerun_failures(flaky_run, pytester):
    _, _ = flaky_run
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    flaky = cases["test_flaky"].findall("flakyFailure")
    assert len(flaky) == 1 and "not ready yet" in flaky[0].get("message", "")
    assert "the service was not ready yet" in (flaky[0].findtext("stackTrace") or "")
    assert "failure bundle:" in (flaky[0].findtext("system-out") or "")
    assert cases["test_flaky"].find("failure") is None  # it passed in the end
    broken = cases["test_broken"]
    assert len(broken.findall("rerunFailure")) == 1 and broken.find("failure") is not None
    assert not cases["test_fine"].findall("flakyFailure")


def test_only_flaky_makes_the_verdict_flaky_not_passed(pytester, run_dir):
    pytester.makepyfile(test_some=TESTS)
    result = pytester.runpytest("-p", "no:randomly", "--reruns", "1", "-k", "flaky or fine")
    assert outcomes(result) == {"passed": 2, "rerun": 1, "deselected": 1}
    first = (run_dir / "summary.md").read_text().splitlines()[0]
    assert first.endswith(": FLAKY (1 passed only on retry)")


def test_without_reruns_nothing_is_retried(pytester, run_dir):
    pytester.makepyfile(test_some=TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-k", "flaky")
    result.assert_outcomes(failed=1, deselected=2)
    assert "FLAKY" not in (run_dir / "summary.md").read_text()


@pytest.mark.parametrize(("nodeid", "address"), [
    ("scenarios/test_x.py::test_y", ("scenarios.test_x", "test_y")),
    ("a/b.py::C::t[x/y::z]", ("a.b.C", "t[x/y::z]")),
])
def test_junit_address_is_pytests(nodeid, address):
    assert junit_address(nodeid) == address


def test_under_xdist_the_controller_tells_flaky_too(pytester, run_dir):
    pytester.makepyfile(test_some=TESTS)
    result = pytester.runpytest("-p", "no:randomly", "-n", "2", "--reruns", "1",
                                "--junitxml", str(pytester.path / "junit.xml"))
    assert outcomes(result) == {"passed": 2, "failed": 1, "rerun": 2}
    records = {r["nodeid"]: r["outcome"] for r in json.loads(
        (run_dir / "records.json").read_text())["records"]}
    assert records["test_some.py::test_flaky"] == "flaky"
    case = next(c for c in ET.parse(pytester.path / "junit.xml").iter("testcase")
                if c.get("name") == "test_flaky")
    assert len(case.findall("flakyFailure")) == 1
