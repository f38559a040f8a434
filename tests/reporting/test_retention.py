"""Old runs' artifacts are removed so nightly jobs on one machine do not fill its disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reporting import prune_runs
from tests.reporting.conftest import RUN_ID
from tests.reporting.fakes import CONFTEST

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-01")]


def make_runs(root: Path, count: int) -> list[str]:
    """``count`` run folders, oldest first, each with a file in it."""
    names = [f"202601{day:02d}T120000Z-sess{day}" for day in range(1, count + 1)]
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "summary.md").write_text("x")
    return names


def test_only_the_newest_runs_are_kept(tmp_path):
    names = make_runs(tmp_path, 5)
    removed = prune_runs(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == names[3:]


def test_the_current_run_is_kept_and_counted(tmp_path):
    names = make_runs(tmp_path, 4)
    removed = prune_runs(tmp_path, keep=2, current=names[0])  # e.g. a clock set back
    assert sorted(p.name for p in removed) == names[1:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == [names[0], names[3]]


def test_what_is_not_a_run_folder_is_never_touched(tmp_path):
    make_runs(tmp_path, 3)
    for keep in ("latest", "coverage", "notes-20260101T000000Z"):
        (tmp_path / keep).mkdir()
    (tmp_path / "20260101T000000Z-a-file").write_text("not a folder")
    prune_runs(tmp_path, keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "20260101T000000Z-a-file", "20260103T120000Z-sess3", "coverage", "latest",
        "notes-20260101T000000Z"]


@pytest.mark.parametrize("keep", [0, -1])
def test_zero_keeps_everything(tmp_path, keep):
    names = make_runs(tmp_path, 3)
    assert prune_runs(tmp_path, keep=keep) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    assert prune_runs(tmp_path / "missing", keep=1) == []


def test_a_run_prunes_older_runs_as_E2E_KEEP_RUNS_says(pytester, monkeypatch):
    artifacts = pytester.path / "artifacts"
    old = make_runs(artifacts, 3)  # newer than this run (RUN_ID), which is kept all the same
    monkeypatch.setenv("E2E_KEEP_RUNS", "2")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    left = sorted(p.name for p in artifacts.iterdir()  # runs only: not latest/, history
                  if p.name != "latest" and "history.jsonl" not in p.name)
    assert left == sorted([RUN_ID, old[-1]]), left
    result.stdout.fnmatch_lines(["*removed the artifacts of 2 older run(s)*keeping the newest 2*"])


def test_a_bad_E2E_KEEP_RUNS_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("E2E_KEEP_RUNS", "ten")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_ok="def test_ok():\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*E2E_KEEP_RUNS='ten' is not a whole number*"])
