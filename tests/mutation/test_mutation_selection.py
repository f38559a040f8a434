"""The recorded coverage map, selection by it, the re-run of "no answer" failures, the
datastore reset and the report's survivors. No Docker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import harness.mutation._live as live
from harness.mutation import (
    CoverageMap,
    MutationEngine,
    Outcome,
    SelectionMap,
    Selector,
    SuiteRun,
    TimedTest,
    load_catalogue,
    parse_patch,
    to_json,
    to_markdown,
)
from harness.mutation._coverage_map import blob_sha1, contexts_of, parse_ranges, ranges
from harness.mutation._live import parse_junit

from .test_mutation_engine import DIFF, FakePlatform, FakeRunner, FakeWorkspace, write_patch

SOURCE = b"a = 1\nb = 2\nc = 3\nd = 4\n"
INSERT = """diff --git a/optiinfra/x.py b/optiinfra/x.py
--- a/optiinfra/x.py
+++ b/optiinfra/x.py
@@ -2,3 +2,4 @@
 b = 2
+b += 1
 c = 3
 d = 4
"""


def recorded(source: bytes = SOURCE) -> CoverageMap:
    # line 1 runs at start-up only; 2 in test a's second; 3 in b's; 4 under no test
    contexts: dict[str, dict[int, Sequence[str]]] = {
        "optiinfra/x.py": {1: [""], 2: ["t100"], 3: ["t105", "t100"], 4: ["t300"]}}
    windows = [TimedTest("scenarios/t.py::a", 99.5, 101.2),
               TimedTest("scenarios/t.py::b", 104.0, 110.0),
               TimedTest("tests/unit.py::fast", 100.0, 100.1)]
    return CoverageMap.build(contexts, windows, lambda _p: source, slack_s=3.0)


# -- the map --------------------------------------------------------------------------------

def test_a_line_belongs_to_the_scenarios_running_in_its_second_and_just_before() -> None:
    m = recorded()
    f = m.files["optiinfra/x.py"]
    assert f.lines[2] == {"scenarios/t.py::a"}
    # second 100 is still inside a's window; 105 is b's (a ended at 101.2, + 3 s slack = 104)
    assert f.lines[3] == {"scenarios/t.py::a", "scenarios/t.py::b"}
    assert f.startup == {1}  # line 4 ran only in a second no test was running: neither
    # only scenarios: the fast tests never reach the platform
    assert m.tests == {"scenarios/t.py::a": 1.7, "scenarios/t.py::b": 6.0}
    assert f.sha1 == blob_sha1(SOURCE)


def test_the_map_survives_its_json_file(tmp_path: Path) -> None:
    m = recorded()
    m.save(tmp_path / "map.json")
    assert CoverageMap.load(tmp_path / "map.json") == m
    (tmp_path / "bad.json").write_text('{"tests": []}')
    with pytest.raises(Exception, match="bad.json is not a coverage map.*make test-all"):
        CoverageMap.load(tmp_path / "bad.json")


def test_ranges_read_back_what_they_wrote() -> None:
    assert ranges([7, 1, 2, 3, 9, 10]) == "1-3,7,9-10"
    assert parse_ranges("1-3,7,9-10") == [1, 2, 3, 7, 9, 10]
    assert parse_ranges("") == []
    assert blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"  # git's id


def test_contexts_come_from_coverage_data_with_the_container_prefix_dropped() -> None:
    class Data:
        def measured_files(self) -> list[str]:
            return ["/app/optiinfra/x.py", "/usr/lib/python3/os.py"]

        def contexts_by_lineno(self, path: str) -> dict[int, list[str]]:
            return {3: ["t5"]}

    assert contexts_of(Data()) == {"optiinfra/x.py": {3: ["t5"]}}


# -- selection --------------------------------------------------------------------------------

def hand(tmp_path: Path, named: str = '"scenarios/t.py", "scenarios/new.py::x", '
         '"scenarios/serial.py"') -> SelectionMap:
    (tmp_path / "map.toml").write_text(
        f'default = ["d"]\n[files]\n"optiinfra/x.py" = [{named}]\n')
    return SelectionMap.load(tmp_path / "map.toml")


def selector(tmp_path: Path, source: bytes = SOURCE, named: str | None = None) -> Selector:
    return Selector(hand(tmp_path, *([named] if named else [])), recorded(),
                    read_source=lambda _p: source,
                    is_serial=lambda t: t.startswith("scenarios/serial"))


LINE_3 = DIFF.replace(" a = 1\n-b = 2\n+b = 3\n c = 3", " a = 1\n b = 2\n-c = 3\n+c = 4")


def test_the_recording_prunes_the_hand_map_to_the_tests_that_ran_the_lines(
        tmp_path: Path) -> None:
    m = parse_patch(write_patch(tmp_path, "c", diff=LINE_3))
    plan = selector(tmp_path).plan(m)
    # line 3 ran under both tests of scenarios/t.py: b (6 s) before a (1.7 s); then what the
    # recording never ran (a newer test, a serial one), as the hand map lists them
    assert plan.tests == ["scenarios/t.py::b", "scenarios/t.py::a", "scenarios/new.py::x",
                          "scenarios/serial.py"]
    assert plan.recorded
    assert plan.basis == ["optiinfra/x.py: recorded map, 2 test(s) ran line(s) 3, 2 of them "
                          "named by test-map.toml; 2 it never ran (serial or newer)"]
    # line 2 ran under a only: b goes, though the hand map names its file
    m2 = parse_patch(write_patch(tmp_path, "b"))
    assert selector(tmp_path).plan(m2).tests[0] == "scenarios/t.py::a"
    assert "scenarios/t.py::b" not in selector(tmp_path).plan(m2).tests


def test_when_the_hand_map_names_no_test_that_ran_the_lines_all_that_did_run(
        tmp_path: Path) -> None:
    m = parse_patch(write_patch(tmp_path, "c", diff=LINE_3))
    plan = selector(tmp_path, named='"scenarios/t.py::zzz_gone"').plan(m)
    assert plan.tests[:2] == ["scenarios/t.py::b", "scenarios/t.py::a"]
    assert "none named by test-map.toml, so all of them" in plan.basis[0]


def test_the_hand_maps_first_test_runs_first_where_the_recording_missed_it(
        tmp_path: Path) -> None:
    # line 2 ran under a only, but the hand map's favourite killer is b: the recording can
    # miss a test (a loaded machine's timing), so b runs first, then what the recording says
    m = parse_patch(write_patch(tmp_path, "b"))
    plan = selector(tmp_path, named='"scenarios/t.py::b", "scenarios/t.py::a"').plan(m)
    assert plan.tests == ["scenarios/t.py::b", "scenarios/t.py::a"]
    assert "test-map.toml's first, scenarios/t.py::b, first" in plan.basis[0]
    # when the recording keeps it, nothing moves
    kept = selector(tmp_path, named='"scenarios/t.py::a", "scenarios/t.py::b"').plan(m)
    assert kept.tests == ["scenarios/t.py::a"]
    assert "first," not in kept.basis[0]


def test_an_inserted_line_is_judged_by_its_neighbours(tmp_path: Path) -> None:
    m = parse_patch(write_patch(tmp_path, "ins", diff=INSERT))
    assert m.original_lines("optiinfra/x.py") == [2, 3]
    replaced = parse_patch(write_patch(tmp_path, "rep"))
    assert replaced.original_lines("optiinfra/x.py") == [2]
    assert set(selector(tmp_path).plan(m).tests[:2]) == {"scenarios/t.py::a",
                                                         "scenarios/t.py::b"}


@pytest.mark.parametrize(("diff", "source", "why"), [
    (DIFF.replace(" a = 1\n-b = 2\n+b = 3\n c = 3\n d = 4\n", "-a = 1\n+a = 0\n b = 2\n c = 3\n"),
     SOURCE, "line(s) 1 ran only at start-up"),
    (DIFF.replace(" a = 1\n-b = 2\n+b = 3\n c = 3\n d = 4\n", " a = 1\n b = 2\n c = 3\n-d = 4\n"
                  "+d = 5\n"), SOURCE, "no recorded test ran line(s) 4"),
    (DIFF, b"changed\n", "changed since the recording"),
    (DIFF.replace("x.py", "y.py"), SOURCE, "not in the recorded map"),
])
def test_the_hand_map_speaks_where_the_recording_cannot(tmp_path: Path, diff: str,
                                                        source: bytes, why: str) -> None:
    m = parse_patch(write_patch(tmp_path, "m", diff=diff))
    plan = selector(tmp_path, source).plan(m)
    assert not plan.recorded
    assert why in plan.basis[0] and "test-map.toml" in plan.basis[0]
    assert plan.tests == list(hand(tmp_path).tests_for_file(m.files[0]))


def test_the_committed_coverage_map_loads_and_names_tests_that_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    path = root / "mutants" / "coverage-map.json"
    if not path.is_file():
        pytest.skip("no recorded mutants/coverage-map.json (make test-all writes it)")
    m = CoverageMap.load(path)
    assert m.files and m.tests
    for test in m.tests:
        assert (root / test.split("::")[0]).is_file(), f"{test} does not exist"
    assert load_catalogue(root / "mutants")  # and the catalogue beside it still parses


# -- a kill must be real ------------------------------------------------------------------------

NO_ANSWER = SuiteRun("failed", 3.0, "scenarios/t.py::test_slow", "call",
                     "WaitTimeoutError: 45 s", 1, 2.0, no_answer=True)


class Sequenced(FakeRunner):
    """Answers in turn, whatever the tests."""

    def __init__(self, *answers: SuiteRun) -> None:
        super().__init__({})
        self.answers = list(answers)

    def run(self, tests: Sequence[str], timeout: float, out_dir: Path, *,
            exclude: Sequence[str] = ()) -> SuiteRun:
        self.seen.append(list(tests))
        self.excluded.append(list(exclude))
        return self.answers.pop(0)


def run_one(tmp_path: Path, runner: FakeRunner) -> Any:
    folder = tmp_path / "mutants"
    folder.mkdir()
    write_patch(folder, "m")
    (tmp_path / "map.toml").write_text('default = ["t1", "t2"]\n')
    ticks = iter(range(0, 10_000, 5))
    e = MutationEngine(FakeWorkspace(), FakePlatform(), runner,
                       SelectionMap.load(tmp_path / "map.toml"), tmp_path / "out",
                       image_repository="img", out=lambda _l: None, check_baseline=False,
                       clock=lambda: float(next(ticks)))
    (result,) = e.run(load_catalogue(folder)).results
    return result


def test_a_no_answer_failure_counts_once_its_test_fails_again(tmp_path: Path) -> None:
    runner = Sequenced(NO_ANSWER, SuiteRun("failed", 2.0, "scenarios/t.py::test_slow",
                                           "call", "assert 500 == 200", 1))
    r = run_one(tmp_path, runner)
    assert r.outcome is Outcome.KILLED
    assert runner.seen == [["t1", "t2"], ["scenarios/t.py::test_slow"]]
    assert "again on a re-run (a wrong answer)" in r.rerun
    assert "(re-run)" in to_markdown_of(r)


def test_a_no_answer_that_passes_on_its_rerun_lets_the_selection_decide(tmp_path: Path) -> None:
    runner = Sequenced(NO_ANSWER, SuiteRun("passed", 1.0, tests_run=1),
                       SuiteRun("passed", 4.0, tests_run=2))
    r = run_one(tmp_path, runner)
    assert r.outcome is Outcome.SURVIVED
    assert runner.seen[-1] == ["t1", "t2"]
    assert "passed on a re-run" in r.rerun and "decided: survived" in r.rerun
    assert "tests-rerun" in r.timings


def test_a_wrong_answer_is_a_kill_without_a_rerun(tmp_path: Path) -> None:
    runner = Sequenced(SuiteRun("failed", 3.0, "scenarios/t.py::x", "call", "assert 1 == 2", 1))
    r = run_one(tmp_path, runner)
    assert r.outcome is Outcome.KILLED and not r.rerun
    assert len(runner.seen) == 1


def to_markdown_of(result: Any) -> str:
    from harness.mutation import MutationRun
    return to_markdown(MutationRun([result], 10.0))


@pytest.mark.parametrize(("text", "no_answer"), [
    ("harness.domain._api.ApiUnreachableError: GET /api/v1/costs: no answer", True),
    ("WaitTimeoutError: ...\nThe above exception was the direct cause\nhttpx.ReadTimeout: "
     "timed out", True),
    ("AssertionError: assert 409 == 202", False),
])
def test_junit_tells_no_answer_from_a_wrong_answer(tmp_path: Path, text: str,
                                                   no_answer: bool) -> None:
    (tmp_path / "j.xml").write_text(
        '<testsuites><testsuite><testcase classname="scenarios.t" name="ok" time="1.5"/>'
        f'<testcase classname="scenarios.t" name="bad" time="2.0"><failure message="x">{text}'
        '</failure></testcase></testsuite></testsuites>')
    got = parse_junit(tmp_path / "j.xml")
    assert got is not None
    assert got.no_answer is no_answer
    assert got.test_seconds == 3.5


# -- the datastore reset ----------------------------------------------------------------------

class Recorder:
    def __init__(self, rows: list[tuple[str]] | None = None) -> None:
        self.rows, self.sql, self.closed = rows or [], [], False
        self.autocommit = False

    def execute(self, sql: str) -> Any:
        self.sql.append(sql)
        rows = self.rows if sql.startswith(("SELECT", "SHOW")) else []

        class Result(list[tuple[str]]):
            def fetchall(self) -> list[tuple[str]]:
                return list(self)

        return Result(rows)

    def flushall(self) -> None:
        self.sql.append("FLUSHALL")

    def close(self) -> None:
        self.closed = True

    disconnect = close


def test_every_store_is_emptied_through_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    pg, ch, rds = Recorder([("customers",), ("audit",)]), Recorder([("samples",)]), Recorder()
    monkeypatch.setattr(live, "postgres_connect", lambda _ep: pg)
    monkeypatch.setattr(live, "clickhouse_connect", lambda _ep: ch)
    monkeypatch.setattr(live, "redis_connect", lambda _ep: rds)
    calls: list[str] = []

    class Http:
        def __init__(self, **_kw: Any) -> None: ...

        def __enter__(self) -> Http:
            return self

        def __exit__(self, *_a: object) -> None: ...

        def get(self, path: str) -> Any:
            calls.append(f"GET {path}")
            return Answer({"result": {"collections": [{"name": "patterns"}]}})

        def delete(self, path: str) -> Any:
            calls.append(f"DELETE {path}")
            return Answer({})

    class Answer:
        def __init__(self, body: dict[str, Any]) -> None:
            self.body = body

        def raise_for_status(self) -> None: ...

        def json(self) -> dict[str, Any]:
            return self.body

    monkeypatch.setattr(live.httpx, "Client", Http)
    monkeypatch.setattr(live.httpx, "post", lambda url, **_kw: calls.append(f"POST {url}")
                        or Answer({}))
    platform = object.__new__(live.DockerPlatform)
    platform.endpoints = type("Ep", (), {"qdrant_url": "http://q", "aws_url": "http://aws"})()
    platform.reset_datastores()
    assert pg.sql[-1] == 'DROP TABLE IF EXISTS "customers", "audit" CASCADE' and pg.closed
    assert ch.sql[-1] == "DROP TABLE IF EXISTS `samples`" and ch.closed
    assert rds.sql == ["FLUSHALL"] and rds.closed
    assert "DELETE /collections/patterns" in calls
    assert "POST http://aws/moto-api/reset" in calls


def test_a_store_that_cannot_be_reset_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_ep: Any) -> Any:
        raise ConnectionError("connection refused")

    for name in ("postgres", "clickhouse", "redis"):
        monkeypatch.setattr(live, f"_reset_{name}", lambda _ep: None)
    monkeypatch.setattr(live, "_reset_qdrant", lambda _ep: None)
    monkeypatch.setattr(live, "_reset_aws", refuse)
    platform = object.__new__(live.DockerPlatform)
    platform.endpoints = None  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="aws: ConnectionError: connection refused"):
        platform.reset_datastores()


# -- the report ------------------------------------------------------------------------------

def test_a_survivor_shows_its_lines_and_why_it_may_survive(tmp_path: Path) -> None:
    p = write_patch(tmp_path, "quiet")
    p.write_text(p.read_text().replace("# kind: mutant\n", "# kind: mutant\n# why it may "
                                       "survive: no scenario reads the audit's order\n"))
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "quiet.patch").write_text(p.read_text())
    (tmp_path / "map.toml").write_text('default = ["t1"]\n')
    ticks = iter(range(0, 10_000, 5))
    e = MutationEngine(FakeWorkspace(), FakePlatform(), FakeRunner({}),
                       SelectionMap.load(tmp_path / "map.toml"), tmp_path / "out",
                       image_repository="img", out=lambda _l: None, check_baseline=False,
                       clock=lambda: float(next(ticks)))
    run = e.run(load_catalogue(folder))
    md = to_markdown(run)
    survivor = md[md.index("### quiet"):]
    assert survivor.index("Why it may survive: no scenario reads the audit's order") < \
        survivor.index("optiinfra/x.py:2 - b = 2")
    assert "Selected by: optiinfra/x.py: test-map.toml" in survivor
    assert "median per phase" in md
    data = json.loads(json.dumps(to_json(run)))
    assert data["results"][0]["why_it_may_survive"] == "no scenario reads the audit's order"
    assert set(data["phase_medians"]) >= {"build", "tests"}


def test_one_named_test_runs_without_xdist_workers(tmp_path: Path) -> None:
    runner = live.PytestRunner(workers=2)
    one = runner.command(["scenarios/t.py::test_a"], tmp_path, serial=False)
    assert "-n" not in one and "no:xdist" in one
    several = runner.command(["scenarios/t.py::test_a", "scenarios/t.py::test_b"], tmp_path,
                             serial=False)
    assert several[several.index("-n") + 1] == "2"
    assert "-n" not in runner.command(["scenarios/t.py"] * 2, tmp_path, serial=True)


class FakeCompose:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def kill(self, services: list[str]) -> None:
        self.log.append("kill " + ",".join(services))

    def rm(self, services: list[str], stop: bool) -> None:
        self.log.append("rm")

    def up(self, services: list[str], **_kw: Any) -> None:
        self.log.append("up " + ",".join(services))


def platform_with(tmp_path: Path, reset: str, log: list[str]) -> live.DockerPlatform:
    p = object.__new__(live.DockerPlatform)
    p.reset, p.services, p.platform_image = reset, ["agent-cost", "orchestrator", "portal"], "base"
    p.current, p.baseline, p._out = {}, None, lambda _l: None
    p.override = tmp_path / "override.yml"
    compose = FakeCompose(log)
    p._docker = type("D", (), {"compose": compose})()  # type: ignore[assignment]
    p._client = lambda _extra: p._docker  # type: ignore[method-assign]
    p._wait_healthy = lambda _c, _s: (True, "")  # type: ignore[method-assign]
    p.warm_up = lambda: log.append("warm-up")  # type: ignore[method-assign]
    p.reset_datastores = lambda *, in_place=False: log.append(  # type: ignore[method-assign]
        f"reset in place={in_place}")
    p.affected = lambda _tag, files: [s for s in p.services  # type: ignore[method-assign]
                                      if files[0].startswith(f"optiinfra/{s}")]
    return p


@pytest.mark.parametrize(("reset", "second"), [
    ("full", ["kill agent-cost,orchestrator,portal", "rm", "reset in place=False",
              "up agent-cost,orchestrator,portal", "warm-up"]),
    # the portal's mutant goes, the orchestrator's comes; the cost agent keeps running
    ("data", ["kill orchestrator,portal", "rm", "reset in place=True", "up orchestrator,portal",
              "warm-up"]),
    ("none", ["kill orchestrator,portal", "rm", "up orchestrator,portal", "warm-up"]),
])
def test_each_mutant_meets_reset_stores_as_the_mode_says(tmp_path: Path, reset: str,
                                                         second: list[str]) -> None:
    log: list[str] = []
    p = platform_with(tmp_path, reset, log)
    assert p.deploy("img:baseline").healthy  # the baseline: always every service, dropped
    assert log[2] == "reset in place=False" and p.baseline == "img:baseline"
    p.deploy("img:m1", files=["optiinfra/portal/app.py"])
    assert p.current["portal"] == "img:m1" and p.current["orchestrator"] == "img:baseline"
    log.clear()
    got = p.deploy("img:m2", files=["optiinfra/orchestrator/rollout.py"])
    assert log == second
    assert p.current == {"agent-cost": "img:baseline", "orchestrator": "img:m2",
                         "portal": "img:baseline"}
    assert set(got.phases) >= {"stop", "start", "healthy"}


def test_in_place_the_streams_come_back_empty_with_their_groups(
        monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[tuple[str, ...]] = []

    class Pipe:
        def delete(self, key: str) -> None:
            done.append(("multi-del", key))

        def xgroup_create(self, key: str, group: str, id: str, mkstream: bool) -> None:
            done.append(("group", key, group, id))

        def execute(self) -> None:
            done.append(("exec",))

    class Redis:
        def scan_iter(self, count: int) -> list[str]:
            return ["tasks:cost", "lease:1"]

        def type(self, key: str) -> str:
            return "stream" if key.startswith("tasks") else "string"

        def xinfo_groups(self, key: str) -> list[dict[str, str]]:
            return [{"name": "agents"}]

        def pipeline(self, transaction: bool) -> Pipe:
            assert transaction  # a consumer never sees the stream without its group
            return Pipe()

        def delete(self, key: str) -> None:
            done.append(("del", key))

        def close(self) -> None:
            done.append(("close",))

    monkeypatch.setattr(live, "redis_connect", lambda _ep: Redis())
    live._empty_redis(None)  # type: ignore[arg-type]
    assert done == [("multi-del", "tasks:cost"), ("group", "tasks:cost", "agents", "0"),
                    ("exec",), ("del", "lease:1"), ("close",)]


def test_hypothesis_and_schemathesis_load_only_for_files_that_use_them(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_a(): pass\n")
    (tmp_path / "test_fuzz.py").write_text("import schemathesis\n")
    runner = live.PytestRunner(cwd=tmp_path)
    plain = runner.command(["test_plain.py::test_a"], tmp_path, serial=False)
    assert "no:schemathesis" in plain and "no:hypothesispytest" in plain
    both = runner.command(["test_plain.py", "test_fuzz.py"], tmp_path, serial=False)
    assert "no:schemathesis" not in both
    assert "no:schemathesis" not in runner.command(["missing/"], tmp_path, serial=False)


def test_a_test_written_after_the_recording_is_kept(tmp_path: Path) -> None:
    m = parse_patch(write_patch(tmp_path, "b"))
    files = {"scenarios/t.py": "def a():\n    pass\n\ndef b():\n    pass\n\n"
                               "async def test_c_new():\n    pass\n"}
    sel = Selector(hand(tmp_path, '"scenarios/t.py"'), recorded(), read_source=lambda _p: SOURCE,
                   read_test=files.get)
    plan = sel.plan(m)
    # line 2 ran under a; b is recorded and did not run it; c is newer than the recording
    assert plan.tests == ["scenarios/t.py::a", "scenarios/t.py::test_c_new"]
    assert "1 it never ran (serial or newer)" in plan.basis[0]
