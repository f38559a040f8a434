"""The mutation engine with fakes: catalogue, test map, outcomes, restore, reports. No Docker."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

import harness.mutation as mutation
from harness.mutation import (
    BaselineUnhealthy,
    CatalogueError,
    Deployment,
    DoesNotApply,
    Mutant,
    MutationEngine,
    MutationRun,
    Outcome,
    SelectionMap,
    SuiteRun,
    load_catalogue,
    parse_patch,
    to_json,
    to_markdown,
    verdict_lines,
)
from harness.mutation._imports import files_of
from harness.mutation._live import GitWorkspace, parse_junit

DIFF = """diff --git a/optiinfra/x.py b/optiinfra/x.py
--- a/optiinfra/x.py
+++ b/optiinfra/x.py
@@ -1,4 +1,4 @@
 a = 1
-b = 2
+b = 3
 c = 3
 d = 4
"""


def write_patch(folder: Path, name: str, kind: str = "mutant", component: str = "orchestrator",
                diff: str = DIFF, notices: str = "the bill is wrong") -> Path:
    p = folder / f"{name}.patch"
    p.write_text(f"# customer notices: {notices}\n# component: {component}\n# kind: {kind}\n"
                 + diff)
    return p


# -- catalogue ---------------------------------------------------------------------------------

def test_a_patch_gives_its_header_and_the_lines_it_changes(tmp_path: Path) -> None:
    m = parse_patch(write_patch(tmp_path, "b-is-three"))
    assert (m.name, m.kind, m.component, m.notices) == ("b-is-three", "mutant", "orchestrator",
                                                         "the bill is wrong")
    assert [c.render() for c in m.changed] == ["optiinfra/x.py:2 - b = 2",
                                               "optiinfra/x.py:2 + b = 3"]
    assert m.files == ("optiinfra/x.py",)
    assert not m.is_control


@pytest.mark.parametrize(("text", "says"), [
    ("# component: x\n# kind: mutant\n" + DIFF, "customer notices"),
    ("# customer notices: y\n# component: x\n# kind: maybe\n" + DIFF, "neither"),
    ("# customer notices: y\n# component: x\n# kind: mutant\n", "no diff"),
])
def test_a_malformed_patch_is_named_with_what_is_missing(tmp_path: Path, text: str,
                                                         says: str) -> None:
    p = tmp_path / "bad.patch"
    p.write_text(text)
    with pytest.raises(CatalogueError, match=says) as err:
        parse_patch(p)
    assert "bad.patch" in str(err.value)


def test_the_catalogue_picks_by_name_and_lists_the_known_ones_when_unknown(
        tmp_path: Path) -> None:
    write_patch(tmp_path, "one")
    write_patch(tmp_path, "two", kind="control")
    assert [m.name for m in load_catalogue(tmp_path)] == ["one", "two"]
    assert [m.name for m in load_catalogue(tmp_path, ["two"])] == ["two"]
    with pytest.raises(CatalogueError, match="known: one, two"):
        load_catalogue(tmp_path, ["three"])


# -- test selection ------------------------------------------------------------------------------

def test_the_most_specific_pattern_wins_and_files_merge_in_order(tmp_path: Path) -> None:
    (tmp_path / "map.toml").write_text(
        'default = ["d"]\n[files]\n"optiinfra/*" = ["broad"]\n'
        '"optiinfra/x.py" = ["x1", "x2"]\n"optiinfra/y.py" = ["x2", "y1"]\n')
    tm = SelectionMap.load(tmp_path / "map.toml")
    assert tm.tests_for_file("optiinfra/x.py") == ("x1", "x2")
    assert tm.tests_for_file("optiinfra/z.py") == ("broad",)
    assert tm.tests_for_file("elsewhere.py") == ("d",)
    two = DIFF + DIFF.replace("x.py", "y.py")
    m = parse_patch(write_patch(tmp_path, "both", diff=two))
    assert tm.select(m) == ["x1", "x2", "y1"]


def test_a_broken_test_map_says_where(tmp_path: Path) -> None:
    (tmp_path / "map.toml").write_text("default = [")
    with pytest.raises(CatalogueError, match="map.toml is not valid TOML"):
        SelectionMap.load(tmp_path / "map.toml")
    with pytest.raises(CatalogueError, match="no test map"):
        SelectionMap.load(tmp_path / "absent.toml")


# -- the engine with fakes -------------------------------------------------------------------

class FakeWorkspace:
    def __init__(self, not_applying: Sequence[str] = ()) -> None:
        self.not_applying, self.cleaned = set(not_applying), False

    def prepare(self, mutant: Mutant | None) -> Path:
        if mutant is not None and mutant.name in self.not_applying:
            raise DoesNotApply(f"{mutant.name}: hunk 1 failed")
        return Path("/scratch") / (mutant.name if mutant else "baseline")

    def cleanup(self) -> None:
        self.cleaned = True


class FakePlatform:
    def __init__(self, unhealthy: Sequence[str] = (), broken_builds: Sequence[str] = ()) -> None:
        self.unhealthy, self.broken = set(unhealthy), set(broken_builds)
        self.calls: list[tuple[str, str | None]] = []
        self.files: list[Sequence[str] | None] = []
        self.images: set[str] = set()

    def build(self, source: Path, tag: str) -> None:
        self.calls.append(("build", tag))
        if source.name in self.broken:
            raise RuntimeError("COPY failed")
        self.images.add(tag)

    def deploy(self, tag: str | None, *, files: Sequence[str] | None = None) -> Deployment:
        self.calls.append(("deploy", tag))
        self.files.append(files)
        ok = not any(tag and tag.endswith(u) for u in self.unhealthy)
        return Deployment(ok, 1.0, "" if ok else "portal=crashing (restarted 2x)")

    def remove_image(self, tag: str) -> None:
        self.calls.append(("remove", tag))
        self.images.discard(tag)


class FakeRunner:
    def __init__(self, outcomes: dict[str, SuiteRun]) -> None:
        self.outcomes = outcomes
        self.seen: list[list[str]] = []
        self.excluded: list[list[str]] = []

    def run(self, tests: Sequence[str], timeout: float, out_dir: Path, *,
            exclude: Sequence[str] = ()) -> SuiteRun:
        self.seen.append(list(tests))
        self.excluded.append(list(exclude))
        return self.outcomes.get(out_dir.name, SuiteRun("passed", 2.0, tests_run=len(tests)))


def engine(tmp_path: Path, runner: FakeRunner, platform: FakePlatform | None = None,
           workspace: FakeWorkspace | None = None,
           check_baseline: bool = True) -> tuple[MutationEngine, FakePlatform, FakeWorkspace]:
    (tmp_path / "map.toml").write_text('default = ["t_fast", "t_slow"]\n')
    platform = platform or FakePlatform()
    workspace = workspace or FakeWorkspace()
    lines: list[str] = []
    ticks = iter(range(0, 10_000, 5))
    e = MutationEngine(workspace, platform, runner, SelectionMap.load(tmp_path / "map.toml"),
                       tmp_path / "out", image_repository="img", out=lines.append,
                       check_baseline=check_baseline, clock=lambda: float(next(ticks)))
    return e, platform, workspace


def catalogue(tmp_path: Path, *names: str, controls: Sequence[str] = ()) -> list[Mutant]:
    folder = tmp_path / "mutants"
    folder.mkdir(exist_ok=True)
    for n in names:
        write_patch(folder, n)
    for n in controls:
        write_patch(folder, n, kind="control")
    return load_catalogue(folder)


def test_each_outcome_is_recorded_with_its_killer_and_phase(tmp_path: Path) -> None:
    mutants = catalogue(tmp_path, "caught", "missed", "slow", "stale", "crashes", "unbuildable")
    runner = FakeRunner({
        "caught": SuiteRun("failed", 3.0, "scenarios/test_a.py::test_x", "phase 5: approve",
                          "assert 409 == 202", 1),
        "slow": SuiteRun("timed_out", 9.0, message="still running after 240s"),
    })
    e, platform, workspace = engine(tmp_path, runner, FakePlatform(
        unhealthy=["crashes"], broken_builds=["unbuildable"]), FakeWorkspace(["stale"]))
    run = e.run(mutants)
    got = {r.mutant.name: r for r in run.results}
    assert got["caught"].outcome is Outcome.KILLED
    assert (got["caught"].killer, got["caught"].phase) == ("scenarios/test_a.py::test_x",
                                                           "phase 5: approve")
    assert got["missed"].outcome is Outcome.SURVIVED
    assert got["slow"].outcome is Outcome.TIMED_OUT
    assert got["stale"].outcome is Outcome.DOES_NOT_APPLY
    assert "hunk 1 failed" in got["stale"].detail
    assert got["crashes"].outcome is Outcome.KILLED
    assert got["crashes"].killer == "platform startup"
    assert got["unbuildable"].outcome is Outcome.ERROR
    assert "COPY failed" in got["unbuildable"].detail
    assert runner.seen[0] == ["t_fast", "t_slow"]
    # killed of killed + survived: timeouts, errors and stale patches are not counted
    assert run.kill_rate == pytest.approx(2 / 3)
    assert workspace.cleaned


def test_the_stack_gets_its_own_image_back_and_no_mutant_image_is_left(tmp_path: Path) -> None:
    e, platform, _ = engine(tmp_path, FakeRunner({}))
    e.run(catalogue(tmp_path, "a", "b", "c"))
    deploys = [tag for what, tag in platform.calls if what == "deploy"]
    assert deploys == ["img:mutant-baseline", "img:mutant-a", "img:mutant-b", "img:mutant-c",
                       None]
    # the baseline and the restore reset everything; a mutant restarts what loads its files
    assert platform.files == [None, ("optiinfra/x.py",), ("optiinfra/x.py",),
                              ("optiinfra/x.py",), None]
    assert platform.images == set()
    # an image is removed only once nothing runs on it any more; the baseline, which the
    # services a mutant leaves alone run, stays to the end
    removed_a = platform.calls.index(("remove", "img:mutant-a"))
    assert platform.calls.index(("deploy", "img:mutant-b")) < removed_a
    assert platform.calls.index(("remove", "img:mutant-baseline")) > platform.calls.index(
        ("deploy", None))


def test_an_interrupted_run_still_restores_the_platform(tmp_path: Path) -> None:
    class Interrupting(FakeRunner):
        def run(self, tests: Sequence[str], timeout: float, out_dir: Path, *,
                exclude: Sequence[str] = ()) -> SuiteRun:
            if out_dir.name == "b":
                raise KeyboardInterrupt
            return SuiteRun("passed", 1.0, tests_run=2)

    e, platform, workspace = engine(tmp_path, Interrupting({}))
    with pytest.raises(KeyboardInterrupt):
        e.run(catalogue(tmp_path, "a", "b"))
    assert platform.calls[-4:] == [("deploy", None), ("remove", "img:mutant-baseline"),
                                   ("remove", "img:mutant-a"), ("remove", "img:mutant-b")]
    assert workspace.cleaned
    # what was evaluated before the interruption can still be reported
    assert [r.mutant.name for r in e.results] == ["a"]
    partial = MutationRun(e.results, 10.0, "git HEAD", planned=2)
    assert verdict_lines(partial)[-1] == "INTERRUPTED: 1 of 2 patches evaluated"


def test_a_swap_that_fails_in_compose_is_a_harness_error_not_a_kill(tmp_path: Path) -> None:
    class ComposeFails(FakePlatform):
        def deploy(self, tag: str | None, *, files: Sequence[str] | None = None) -> Deployment:
            if files is None:
                return super().deploy(tag, files=files)
            return Deployment(False, 1.0, "compose up failed: no such image", True)

    e, _, _ = engine(tmp_path, FakeRunner({}), ComposeFails())
    (result,) = e.run(catalogue(tmp_path, "a")).results
    assert result.outcome is Outcome.ERROR
    assert "no such image" in result.detail


def test_a_baseline_that_does_not_start_stops_the_run_before_any_mutant(tmp_path: Path) -> None:
    runner = FakeRunner({})
    e, platform, _ = engine(tmp_path, runner, FakePlatform(unhealthy=["baseline"]))
    with pytest.raises(BaselineUnhealthy, match="WITHOUT any patch"):
        e.run(catalogue(tmp_path, "a"))
    assert runner.seen == []
    assert ("deploy", None) in platform.calls


def test_a_killed_control_is_reported_as_a_flaky_or_over_fitted_suite(tmp_path: Path) -> None:
    mutants = catalogue(tmp_path, "real", controls=["reworded-log"])
    runner = FakeRunner({"reworded-log": SuiteRun("failed", 1.0, "scenarios/t.py::test_log",
                                                 None, "log line changed", 1),
                         "real": SuiteRun("failed", 1.0, "scenarios/t.py::test_y", None, "", 1)})
    e, _, _ = engine(tmp_path, runner, check_baseline=False)
    run = e.run(mutants)
    assert [r.mutant.name for r in run.killed_controls] == ["reworded-log"]
    assert run.kill_rate == 1.0  # controls never count towards the rate
    lines = verdict_lines(run)
    assert "controls: 1 killed of 1" in lines[1] and "over-fitted" in lines[1]
    assert "flaky or over-fitted suite" in to_markdown(run)


def test_reports_put_survivors_first_with_the_lines_they_changed(tmp_path: Path) -> None:
    mutants = catalogue(tmp_path, "a-killed", "z-survivor")
    runner = FakeRunner({"a-killed": SuiteRun("failed", 1.0, "scenarios/t.py::test_k", None,
                                             "", 1)})
    e, _, _ = engine(tmp_path, runner, check_baseline=False)
    run = e.run(mutants)
    md = to_markdown(run)
    assert md.index("z-survivor") < md.index("a-killed")
    assert "optiinfra/x.py:2 - b = 2" in md
    assert "kill rate 50% (1 of 2 mutants killed)" in md
    data = json.loads(json.dumps(to_json(run)))
    assert data["kill_rate"] == 0.5
    assert data["by_component"]["orchestrator"] == {"kill_rate": 0.5, "mutants": 2}
    assert {r["name"]: r["outcome"] for r in data["results"]} == {"a-killed": "killed",
                                                                  "z-survivor": "survived"}


# -- the real parts that need no Docker ------------------------------------------------------

def test_junit_gives_the_first_failure_and_its_failed_phase(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text(
        '<testsuites><testsuite><testcase classname="scenarios.test_ok" name="test_fine"/>'
        '<testcase classname="scenarios.test_spot" name="test_journey">'
        '<properties><property name="phase_1" value="setup: passed 1.00s"/>'
        '<property name="phase_6" value="approve: failed 2.00s"/></properties>'
        '<failure message="AssertionError: 409 != 202">trace</failure></testcase>'
        '</testsuite></testsuites>')
    got = parse_junit(tmp_path / "junit.xml")
    assert got is not None
    assert got.test is not None and got.test.endswith("test_spot::test_journey")
    assert got.phase == "phase 6: approve"
    assert got.message == "AssertionError: 409 != 202"
    assert got.tests_run == 2
    assert parse_junit(tmp_path / "absent.xml") is None


def _git_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "optiinfra").mkdir(parents=True)
    (repo / "compose" / "platform").mkdir(parents=True)
    (repo / ".wheelhouse" / "platform").mkdir(parents=True)
    (repo / ".wheelhouse" / "platform" / "w.whl").write_text("wheel")
    (repo / "optiinfra" / "x.py").write_text("a = 1\nb = 2\nc = 3\nd = 4\n")
    (repo / "compose" / "platform" / "Dockerfile").write_text("FROM scratch\n")
    for cmd in (["init", "-q"], ["add", "optiinfra", "compose"],
                ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, capture_output=True)
    return repo


def test_a_scratch_copy_gets_the_patch_and_the_checkout_does_not(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path)
    ws = GitWorkspace(repo)
    try:
        src = ws.prepare(parse_patch(write_patch(tmp_path, "b3")))
        assert (src / "optiinfra" / "x.py").read_text() == "a = 1\nb = 3\nc = 3\nd = 4\n"
        assert (src / ".wheelhouse" / "platform" / "w.whl").read_text() == "wheel"
        assert (repo / "optiinfra" / "x.py").read_text().startswith("a = 1\nb = 2")
        stale = DIFF.replace("-b = 2", "-b = 7")
        with pytest.raises(DoesNotApply, match="stale.patch"):
            ws.prepare(parse_patch(write_patch(tmp_path, "stale", diff=stale)))
        # the next mutant starts again from the pristine source
        assert (ws.prepare(None) / "optiinfra" / "x.py").read_text().startswith("a = 1\nb = 2")
    finally:
        ws.cleanup()
    assert not ws.root.exists()


def test_the_catalogue_in_the_repo_covers_every_service_with_three_controls() -> None:
    root = Path(__file__).resolve().parents[2]
    mutants = load_catalogue(root / "mutants")
    real = [m for m in mutants if not m.is_control]
    assert len(real) >= 30
    assert len([m for m in mutants if m.is_control]) >= 3
    components = {m.component for m in real}
    for service in ("orchestrator", "portal", "agent-cost", "agent-performance",
                    "agent-resource", "agent-application", "workload"):
        assert service in components, f"no mutant in {service}"
    test_map = SelectionMap.load(root / "mutants" / "test-map.toml")
    for m in mutants:
        for test in test_map.select(m):
            assert (root / test.split("::")[0]).is_file(), f"{m.name}: {test} does not exist"


def test_the_public_names_are_sorted_and_exist() -> None:
    assert mutation.__all__ == sorted(mutation.__all__)
    for name in mutation.__all__:
        assert hasattr(mutation, name)


def test_a_service_loads_what_its_entry_module_imports_and_nothing_else(tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    for rel, text in {
        "__init__.py": "", "common/__init__.py": "", "common/money.py": "import json\n",
        "common/unused.py": "", "api/__init__.py": "",
        "api/__main__.py": "from .routes import go\n",
        "api/routes.py": "from ..common import money\nfrom app.common.money import x\n",
        "worker/__init__.py": "", "worker/__main__.py": "import os\n",
    }.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    assert files_of(tmp_path, "app.api") == {
        "app/__init__.py", "app/api/__init__.py", "app/api/__main__.py", "app/api/routes.py",
        "app/common/__init__.py", "app/common/money.py"}
    assert "app/common/money.py" not in files_of(tmp_path, "app.worker")
