"""The kill history: an earlier run's killer of a patch runs first, alone, next time; the
verdict is still the tests'. No Docker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main as harness_main
from harness.mutation import (
    CatalogueError,
    MutationEngine,
    Outcome,
    SelectionMap,
    Selector,
    SuiteRun,
    load_catalogue,
)
from harness.mutation._history import KillHistory, patch_digest
from harness.mutation._live import PytestRunner

from .test_mutation_engine import DIFF, FakePlatform, FakeRunner, FakeWorkspace, write_patch

KILLER = "scenarios/test_k.py::test_killer"
TESTS = {"scenarios/test_k.py": "def test_killer():\n    pass\n\ndef test_other():\n    pass\n"}


def mutants(tmp_path: Path, *names: str, diff: str = DIFF) -> dict[str, Any]:
    folder = tmp_path / "mutants"
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        write_patch(folder, n, diff=diff)
    return {m.name: m for m in load_catalogue(folder)}


def history_of(tmp_path: Path, **killers: str) -> KillHistory:
    got = mutants(tmp_path, *killers)
    return KillHistory({n: (k, patch_digest(got[n])) for n, k in killers.items()})


def selector(tmp_path: Path, history: KillHistory) -> Selector:
    (tmp_path / "map.toml").write_text(
        'default = ["scenarios/test_a.py", "scenarios/test_k.py", "scenarios/test_z.py"]\n')
    return Selector(SelectionMap.load(tmp_path / "map.toml"), None, read_test=TESTS.get,
                    history=history)


# -- the file -----------------------------------------------------------------------------------

def test_a_missing_file_is_an_empty_history_and_a_broken_one_names_itself(tmp_path: Path) -> None:
    assert KillHistory.load(tmp_path / "none.json").killers == {}
    bad = tmp_path / "kill-history.json"
    bad.write_text('{"mutants": {"m": {"killer": 3}}}')
    with pytest.raises(CatalogueError, match="kill-history.json.*make mutation-history"):
        KillHistory.load(bad)
    bad.write_text("{not json")
    with pytest.raises(CatalogueError, match="not a readable kill history"):
        KillHistory.load(bad)


def test_a_run_lays_its_killers_over_the_history_and_survivors_lose_theirs(
        tmp_path: Path) -> None:
    cat = mutants(tmp_path, "caught", "escaped", "crashes", "untouched", "errored")
    old = KillHistory({"escaped": ("scenarios/t.py::old", "x"), "gone": ("scenarios/t.py::g", "y"),
                       "untouched": ("scenarios/t.py::u", patch_digest(cat["untouched"])),
                       "errored": ("scenarios/t.py::e", patch_digest(cat["errored"]))})
    new = old.updated([
        {"name": "caught", "outcome": "killed", "killer": KILLER},
        {"name": "escaped", "outcome": "survived", "killer": None},
        {"name": "crashes", "outcome": "killed", "killer": "platform startup"},
        {"name": "errored", "outcome": "error", "killer": None},
    ], cat)
    assert new.killers == {
        "caught": (KILLER, patch_digest(cat["caught"])),
        # not evaluated, or not judged (an error says nothing): kept as they were
        "untouched": old.killers["untouched"], "errored": old.killers["errored"]}
    path = tmp_path / "h.json"
    new.write(path)
    assert KillHistory.load(path) == new


def test_a_changed_patch_forgets_its_killer(tmp_path: Path) -> None:
    h = history_of(tmp_path, m=KILLER)
    (m,) = mutants(tmp_path / "later", "m", diff=DIFF.replace("b = 3", "b = 4")).values()
    assert h.killer_of(m) is None
    (same,) = mutants(tmp_path / "again", "m").values()
    assert h.killer_of(same) == KILLER


# -- the selection ------------------------------------------------------------------------------

def test_the_last_killer_goes_first_and_says_why(tmp_path: Path) -> None:
    sel = selector(tmp_path, history_of(tmp_path, m=KILLER))
    (m,) = mutants(tmp_path, "m").values()
    plan = sel.plan(m)
    assert plan.lead == KILLER
    assert plan.tests == [KILLER, "scenarios/test_a.py", "scenarios/test_k.py",
                          "scenarios/test_z.py"]
    assert any(b.startswith(f"kill history: {KILLER}") for b in plan.basis)


def test_a_killer_no_longer_defined_is_not_tried(tmp_path: Path) -> None:
    sel = selector(tmp_path, history_of(tmp_path, m="scenarios/test_k.py::test_renamed_since"))
    (m,) = mutants(tmp_path, "m").values()
    plan = sel.plan(m)
    assert plan.lead is None
    assert plan.tests[0] == "scenarios/test_a.py"


# -- the engine ---------------------------------------------------------------------------------

def engine(tmp_path: Path, runner: FakeRunner, history: KillHistory) -> MutationEngine:
    ticks = iter(range(0, 10_000, 5))
    return MutationEngine(FakeWorkspace(), FakePlatform(), runner, selector(tmp_path, history),
                          tmp_path / "out", image_repository="img", out=lambda _l: None,
                          check_baseline=False, clock=lambda: float(next(ticks)))


def test_a_lead_that_kills_decides_alone(tmp_path: Path) -> None:
    history = history_of(tmp_path, m=KILLER)
    runner = FakeRunner({"m-lead": SuiteRun("failed", 3.0, KILLER, "phase 2: x", "boom", 1)})
    (r,) = engine(tmp_path, runner, history).run(load_catalogue(tmp_path / "mutants")).results
    assert r.outcome is Outcome.KILLED and r.killer == KILLER
    assert runner.seen == [[KILLER]]


def test_a_lead_that_passes_leaves_the_verdict_to_the_rest_without_running_twice(
        tmp_path: Path) -> None:
    history = history_of(tmp_path, m=KILLER)
    runner = FakeRunner({
        "m-lead": SuiteRun("passed", 3.0, tests_run=1),
        "m": SuiteRun("failed", 4.0, "scenarios/test_z.py::test_z", "call", "assert 1 == 2", 2)})
    (r,) = engine(tmp_path, runner, history).run(load_catalogue(tmp_path / "mutants")).results
    assert r.outcome is Outcome.KILLED and r.killer == "scenarios/test_z.py::test_z"
    assert runner.seen == [[KILLER], ["scenarios/test_a.py", "scenarios/test_k.py",
                                      "scenarios/test_z.py"]]
    # test_k.py holds the lead: deselected there
    assert runner.excluded[1] == [KILLER]


def test_a_survivor_has_run_every_selected_test(tmp_path: Path) -> None:
    history = history_of(tmp_path, m=KILLER)
    runner = FakeRunner({"m-lead": SuiteRun("passed", 3.0, tests_run=1),
                         "m": SuiteRun("passed", 4.0, tests_run=3)})
    (r,) = engine(tmp_path, runner, history).run(load_catalogue(tmp_path / "mutants")).results
    assert r.outcome is Outcome.SURVIVED
    assert r.detail == "4 test(s) passed"


def test_pytest_deselects_what_it_is_told_to_leave_out(tmp_path: Path) -> None:
    cmd = PytestRunner(workers=2, cwd=tmp_path).command(
        ["scenarios/test_k.py"], tmp_path, serial=False, exclude=[KILLER])
    assert f"--deselect={KILLER}" in cmd


# -- the command --------------------------------------------------------------------------------

def test_mutate_history_records_a_runs_killers(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cat = mutants(tmp_path, "m", "n")
    report = tmp_path / "mutation.json"
    report.write_text(json.dumps({"results": [
        {"name": "m", "outcome": "killed", "killer": KILLER},
        {"name": "n", "outcome": "survived", "killer": None}]}))
    rc = harness_main(["mutate-history", str(report), "--catalogue", str(tmp_path / "mutants")])
    assert rc == 0
    got = KillHistory.load(tmp_path / "mutants" / "kill-history.json")
    assert got.killers == {"m": (KILLER, patch_digest(cat["m"]))}
    assert "1 killer(s) for 2 patch(es)" in capsys.readouterr().out


def test_mutate_history_refuses_a_file_that_is_not_a_report(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    mutants(tmp_path, "m")
    report = tmp_path / "mutation.json"
    report.write_text('{"kill_rate": 1.0}')
    rc = harness_main(["mutate-history", str(report), "--catalogue", str(tmp_path / "mutants")])
    assert rc != 0
    assert "not a mutation.json with results" in capsys.readouterr().err
    assert not (tmp_path / "mutants" / "kill-history.json").exists()


def test_the_committed_history_names_defined_tests_of_unchanged_patches() -> None:
    root = Path(__file__).resolve().parents[2]
    history = KillHistory.load(root / "mutants" / "kill-history.json")
    catalogue = {m.name: m for m in load_catalogue(root / "mutants")}
    assert history.killers, "mutants/kill-history.json is empty: `make mutation-history`"
    for name, (killer, _digest) in history.killers.items():
        assert name in catalogue, f"{name} is in the history but not in the catalogue"
        assert history.killer_of(catalogue[name]) == killer, f"{name}'s patch changed since"
        path, _, func = killer.partition("::")
        assert f"def {func.split('[')[0]}(" in (root / path).read_text(), killer
