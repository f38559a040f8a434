"""merge-reports: the nightly shards' reports become one run (summary, traceability, JUnit,
coverage, history, charts); durations refresh pytest-split's file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli import main
from harness.reporting import Catalogue, Requirement, RunSoFar, TestRecord
from harness.reporting._merge import (
    merge_reports,
    update_durations,
    write_records,
)

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-01")]

A, B, C = ("scenarios/test_a.py::test_a", "scenarios/test_b.py::test_b",
           "scenarios/test_c.py::test_c")
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="{n}"
 failures="{f}" errors="0" skipped="0" time="{t}">{cases}</testsuite></testsuites>"""


def shard(root: Path, name: str, records: list[TestRecord], secs: float, status: int = 0,
          junit_cases: str = "") -> Path:
    folder = root / name
    write_records(folder / f"20260101T000000Z-{name}", f"20260101T000000Z-{name}",
                  RunSoFar(records, secs, status))
    (folder / "junit-parallel.xml").write_text(JUNIT.format(
        n=len(records), f=sum(r.outcome == "failed" for r in records), t=secs, cases=junit_cases))
    return folder


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue([Requirement("REQ-X-01", "a", "x"), Requirement("REQ-X-02", "b", "x")],
                     Path("requirements.toml"))


def test_shards_merge_into_one_run(tmp_path, catalogue):
    one = shard(tmp_path, "shard-1", [
        TestRecord(A, "passed", ["REQ-X-01"], 30.0), TestRecord(B, "not run", ["REQ-X-02"])],
        30.0, junit_cases='<testcase classname="scenarios.test_a" name="test_a"/>')
    two = shard(tmp_path, "shard-2", [
        TestRecord(A, "not run", ["REQ-X-01"]), TestRecord(B, "flaky", ["REQ-X-02"], 20.0,
                                                          message="first try timed out"),
        TestRecord(C, "passed", [], 6.0)], 26.0)
    out = tmp_path / "artifacts"
    result = merge_reports([one, two], root=out, catalogue=catalogue, keep_runs=20,
                           rid="20260101T010000Z-nightly")
    assert {r.nodeid: r.outcome for r in result.run.records} == {A: "passed", B: "flaky",
                                                                 C: "passed"}
    assert result.run.duration_s == 30.0 and result.run.exit_status == 0  # side by side
    summary = (out / "latest" / "summary.md").read_text()
    assert summary.splitlines()[0].endswith(": FLAKY (1 passed only on retry)")
    assert "2 passed, 1 flaky in 30.0s" in summary
    assert "the shards ended 13% apart (target: within 20%)" in summary
    assert "| `shard-2` | `20260101T000000Z-shard-2` | 2 | 26.0 | 0 |" in summary
    matrix = json.loads((out / "latest" / "traceability.json").read_text())
    assert {r["id"]: r["status"] for r in matrix["requirements"]} == {
        "REQ-X-01": "passed", "REQ-X-02": "passed"}
    suites = ET.parse(out / "latest" / "junit.xml").getroot()
    assert suites.get("tests") == "5" and len(suites.findall("testsuite")) == 2
    history = (out / "history.jsonl").read_text().splitlines()
    assert len(history) == 3 and all('"20260101T010000Z-nightly"' in h for h in history)
    assert (out / "latest" / "report.html").is_file()
    assert (out / "latest" / "RUN_ID").read_text().strip() == "20260101T010000Z-nightly"


def test_a_failing_shard_or_one_without_records_fails_the_merged_run(tmp_path, catalogue):
    one = shard(tmp_path, "shard-1", [TestRecord(A, "failed", [], 3.0, message="boom")], 3.0,
                status=1)
    empty = tmp_path / "shard-2"
    empty.mkdir()
    result = merge_reports([one, empty], root=tmp_path / "out", catalogue=catalogue,
                           keep_runs=0)
    assert result.run.exit_status == 1
    summary = (result.run_dir / "summary.md").read_text()
    assert "FAILED" in summary.splitlines()[0]
    assert f"shard `{empty}` left no records.json" in summary


def test_the_cli_merges_and_says_what_is_wrong(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    one = shard(tmp_path, "shard-1", [TestRecord(A, "flaky", [], 3.0, message="m")], 3.0)
    assert main(["merge-reports", str(one), "--artifacts-dir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert f"::warning title=FLAKY::{A} passed only on retry: m" in out
    assert (tmp_path / "a" / "latest" / "summary.md").is_file()
    assert main(["merge-reports", str(tmp_path / "nowhere")]) == 1
    assert "nowhere: not a folder" in capsys.readouterr().err


def test_durations_refresh_the_scenarios_that_ran_and_keep_the_others(tmp_path):
    path = tmp_path / ".test_durations"
    path.write_text(json.dumps({A: 1.0, "scenarios/old.py::t": 9.0}))
    records = write_records(tmp_path / "run", "r", RunSoFar([
        TestRecord(A, "passed", [], 12.5), TestRecord(B, "not run"),
        TestRecord(C, "skipped", [], 0.1), TestRecord("tests/x.py::t", "passed", [], 0.2)],
        13.0, 0))
    assert update_durations(path, records) == (1, 2)
    assert json.loads(path.read_text()) == {A: 12.5, "scenarios/old.py::t": 9.0}


def test_every_shards_coverage_data_reaches_one_report(tmp_path):
    from harness.reporting._merge import merge_coverage

    folders = []
    for i in (1, 2):
        data = tmp_path / f"shard-{i}" / "coverage"
        data.mkdir(parents=True)
        (data / ".coverage.portal.1").write_text(f"data {i}")  # same name in both shards
        folders.append(tmp_path / f"shard-{i}")
    script = tmp_path / "report.py"  # stands in for scripts/platform_coverage.py
    script.write_text("import pathlib, sys\nd = pathlib.Path(sys.argv[1])\n"
                      "(d / 'report.md').write_text(' '.join(sorted(p.read_text() for p in "
                      "d.glob('.coverage.*'))))\n")
    note = merge_coverage(folders, tmp_path / "out" / "coverage", script)
    assert note.startswith("platform coverage of all shards")
    assert (tmp_path / "out" / "coverage" / "report.md").read_text() == "data 1 data 2"
    assert "no platform coverage data" in merge_coverage([tmp_path / "none"], tmp_path / "o2",
                                                         script)
