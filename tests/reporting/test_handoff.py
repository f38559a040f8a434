"""Under xdist, what each worker collected reaches the controller through workeroutput."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from harness.reporting import received_collected, send_collected
from harness.reporting._handoff import KEY

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-03")]


def test_a_worker_puts_what_it_collected_in_workeroutput():
    config = SimpleNamespace(workerinput={"workerid": "gw0"}, workeroutput={"exitstatus": 0})
    send_collected(config, {"t.py::a": ["REQ-A-01"], "t.py::b": []})  # type: ignore[arg-type]
    assert config.workeroutput == {"exitstatus": 0,
                                   KEY: {"t.py::a": ["REQ-A-01"], "t.py::b": []}}
    json.dumps(config.workeroutput)  # plain data: execnet can ship it


def test_without_xdist_there_is_no_workeroutput_and_nothing_to_send():
    config = SimpleNamespace()
    send_collected(config, {"t.py::a": []})  # type: ignore[arg-type]
    assert not hasattr(config, "workeroutput")


def test_the_controller_reads_it_from_the_finished_node():
    node = SimpleNamespace(workeroutput={KEY: {"t.py::a": ["REQ-A-01"]}, "exitstatus": 0})
    assert received_collected(node) == {"t.py::a": ["REQ-A-01"]}


def test_a_worker_that_died_before_finishing_hands_over_nothing():
    assert received_collected(SimpleNamespace()) == {}  # no workeroutput at all
    assert received_collected(SimpleNamespace(workeroutput={"exitstatus": 1})) == {}


CATALOGUE = """
[spot]
REQ-SPOT-01 = "Spot migration reduces the monthly cost"
REQ-SPOT-02 = "Savings within 20% of the prediction"
"""
SUITE = """
    import pytest

    @pytest.mark.req("REQ-SPOT-01")
    def test_runs_a():
        pass

    def test_runs_b():
        pass

    @pytest.mark.slow
    @pytest.mark.req("REQ-SPOT-02")
    def test_deselected():
        pass
"""
# The controller writes down what each worker's workeroutput carried when it finished.
SPY = """
    import json
    from pathlib import Path

    from harness.reporting._handoff import KEY

    def pytest_testnodedown(node, error):
        out = Path("handed_over.jsonl")
        with out.open("a") as f:
            f.write(json.dumps({"worker": node.gateway.id,
                                "collected": node.workeroutput.get(KEY)}) + "\\n")
"""


def test_an_xdist_session_reports_what_the_workers_handed_over(pytester, run_dir):
    pytester.makefile(".toml", requirements=CATALOGUE)
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(SPY)

    result = pytester.runpytest("-p", "no:randomly", "-n", "2", "-m", "not slow")

    result.assert_outcomes(passed=2)  # xdist's controller does not count the deselected
    handed = [json.loads(line) for line in
              (pytester.path / "handed_over.jsonl").read_text().splitlines()]
    assert sorted(h["worker"] for h in handed) == ["gw0", "gw1"]
    for h in handed:  # every worker collects the whole suite, deselected tests included
        assert h["collected"] == {"test_suite.py::test_runs_a": ["REQ-SPOT-01"],
                                  "test_suite.py::test_runs_b": [],
                                  "test_suite.py::test_deselected": ["REQ-SPOT-02"]}
    # The controller collected nothing itself: 'not run' can only have come from the workers.
    data = json.loads((run_dir / "traceability.json").read_text())
    assert {r["id"]: r["status"] for r in data["requirements"]} == {
        "REQ-SPOT-01": "passed", "REQ-SPOT-02": "not run"}
    summary = (run_dir / "summary.md").read_text()
    assert "2 passed in" in summary and "1 more collected but not run" in summary, summary
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "records.json", "report.html", "summary.md", "traceability.json",
        "traceability.md"]  # no hand-over files
