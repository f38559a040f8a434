"""The mutation run: for each patch, apply it to a scratch copy, build the platform image from
it, swap it into the running stack (datastores reset), run the tests that ran the patched
lines until the first failure, and record the outcome. A failure that is only "no answer"
(the platform or the machine too slow, not a wrong answer) is re-run once before it counts.
Pure orchestration: the scratch copy, the platform and the test runner are passed in, so fast
tests drive it with fakes."""

from __future__ import annotations

import dataclasses
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ._catalogue import Mutant
from ._exceptions import MutationSetupError
from ._selection import Selection


class Outcome(StrEnum):
    KILLED = "killed"
    SURVIVED = "survived"
    TIMED_OUT = "timed out"
    DOES_NOT_APPLY = "does not apply"
    ERROR = "error"  # the harness could not evaluate it (build failed, pytest crashed)


class DoesNotApply(Exception):
    """The patch no longer applies to the platform's current source."""


class BaselineUnhealthy(MutationSetupError):
    """The unpatched source does not start: every mutant would look killed."""


@dataclass(frozen=True)
class Deployment:
    """The platform after a swap: healthy, or which service did not come up and why.
    ``harness_failed``: the swap itself failed (compose, a datastore), not the platform."""

    healthy: bool
    seconds: float
    detail: str = ""
    harness_failed: bool = False
    phases: dict[str, float] = field(default_factory=dict)  # e.g. stop, reset, start, healthy


@dataclass(frozen=True)
class SuiteRun:
    status: str  # passed | failed | timed_out | error
    seconds: float
    test: str | None = None  # the first failing test
    phase: str | None = None  # its failed phase (the narrative's), or setup/call/teardown
    message: str = ""
    tests_run: int = 0
    test_seconds: float = 0.0  # inside the tests (JUnit); the rest is pytest's own start
    no_answer: bool = False  # the failure was the platform not answering, not a wrong answer


class Workspace(Protocol):
    def prepare(self, mutant: Mutant | None) -> Path:
        """A scratch copy of the platform's source with the patch applied (DoesNotApply);
        None: the source unchanged."""

    def cleanup(self) -> None: ...


class Platform(Protocol):
    def build(self, source: Path, tag: str) -> None:
        """Build the platform image from ``source`` under ``tag``."""

    def deploy(self, tag: str | None, *, files: Sequence[str] | None = None) -> Deployment:
        """``files`` None: reset the datastores and restart every platform service on
        ``tag`` (None: the stack's own image). Otherwise restart on ``tag`` the services
        that load one of ``files``; the others run the baseline."""

    def remove_image(self, tag: str) -> None: ...


class SuiteRunner(Protocol):
    def run(self, tests: Sequence[str], timeout: float, out_dir: Path, *,
            exclude: Sequence[str] = ()) -> SuiteRun:
        """``tests`` (node ids, files or folders) but not the node ids in ``exclude``."""


class SelectsTests(Protocol):
    def plan(self, mutant: Mutant) -> Selection: ...


@dataclass
class MutantResult:
    mutant: Mutant
    outcome: Outcome
    seconds: float
    tests: list[str] = field(default_factory=list)
    killer: str | None = None
    phase: str | None = None
    detail: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    selection: list[str] = field(default_factory=list)  # how each patched file was judged
    rerun: str = ""  # what a re-run of a "no answer" failure decided

    @property
    def counted(self) -> bool:
        """Whether it counts towards the kill rate (controls and unevaluated ones do not)."""
        return not self.mutant.is_control and self.outcome in (Outcome.KILLED, Outcome.SURVIVED)


# A timeout is not counted either way: on a loaded machine it says more about the machine.
DETECTED = (Outcome.KILLED,)


@dataclass
class MutationRun:
    results: list[MutantResult]
    seconds: float
    source: str = ""  # what the scratch copies were taken from (e.g. a commit)
    planned: int = 0  # patches asked for; more than results when the run was interrupted
    notes: list[str] = field(default_factory=list)  # context for the figures (e.g. load)

    @property
    def mutants(self) -> list[MutantResult]:
        return [r for r in self.results if not r.mutant.is_control]

    @property
    def controls(self) -> list[MutantResult]:
        return [r for r in self.results if r.mutant.is_control]

    @property
    def killed_controls(self) -> list[MutantResult]:
        return [r for r in self.controls if r.outcome in DETECTED]

    @staticmethod
    def kill_rate_of(results: Sequence[MutantResult]) -> float | None:
        counted = [r for r in results if r.counted]
        if not counted:
            return None
        return sum(r.outcome in DETECTED for r in counted) / len(counted)

    @property
    def kill_rate(self) -> float | None:
        return self.kill_rate_of(self.results)

    def by_component(self) -> dict[str, list[MutantResult]]:
        out: dict[str, list[MutantResult]] = {}
        for r in self.mutants:
            out.setdefault(r.mutant.component, []).append(r)
        return dict(sorted(out.items()))

    @property
    def median_seconds(self) -> float | None:
        evaluated = [r.seconds for r in self.results if r.outcome != Outcome.DOES_NOT_APPLY]
        return statistics.median(evaluated) if evaluated else None


Printer = Callable[[str], None]


def image_tag(repository: str, mutant: Mutant) -> str:
    return f"{repository}:mutant-{re.sub(r'[^a-z0-9_.-]+', '-', mutant.name.lower())[:100]}"


class MutationEngine:
    def __init__(self, workspace: Workspace, platform: Platform, runner: SuiteRunner,
                 test_map: SelectsTests, out_dir: Path, *, image_repository: str,
                 test_timeout_s: float = 300.0, check_baseline: bool = True,
                 out: Printer = print, clock: Callable[[], float] = time.monotonic) -> None:
        self.workspace, self.platform, self.runner = workspace, platform, runner
        self.test_map, self.out_dir = test_map, out_dir
        self.image_repository, self.test_timeout_s = image_repository, test_timeout_s
        self._out, self._clock = out, clock
        self.check_baseline = check_baseline
        self.results: list[MutantResult] = []

    def _baseline(self) -> None:
        """Build and start the unpatched source first: when it does not come up healthy, the
        run stops here instead of counting every mutant as killed."""
        tag = f"{self.image_repository}:mutant-baseline"
        self.say("baseline: the platform's source without a patch...")
        self.platform.build(self.workspace.prepare(None), tag)
        self._built(tag)
        got = self.platform.deploy(tag)
        if not got.healthy:
            raise BaselineUnhealthy(
                "the platform's source WITHOUT any patch does not start healthy, so no mutant "
                f"can be judged: {got.detail}\nFix the platform (or pick a revision that "
                "starts with --rev) and run again.")

    def say(self, msg: str) -> None:
        self._out(f"[mutation] {msg}")

    def run(self, mutants: Sequence[Mutant], source: str = "") -> MutationRun:
        started = self._clock()
        # kept on the engine: an interrupted run still reports what it evaluated
        results = self.results = []
        self._images: list[str] = []  # built here; the last one may still run
        try:
            if self.check_baseline:
                self._baseline()
            for n, mutant in enumerate(mutants, 1):
                self.say(f"{n}/{len(mutants)} {mutant.name} ({mutant.kind}, "
                         f"{mutant.component}): {mutant.notices}")
                result = self._evaluate(mutant)
                results.append(result)
                where = f" by {result.killer}" if result.killer else ""
                phase = f" ({result.phase})" if result.phase else ""
                self.say(f"  -> {result.outcome.value.upper()}{where}{phase} in "
                         f"{result.seconds:.0f}s" + (f": {result.detail}" if result.detail
                                                     and result.outcome != Outcome.KILLED
                                                     else ""))
        finally:
            # The stack goes back to its own image, on clean data, whatever happened above.
            if self._images:
                self.say("restoring the platform's own image...")
                back = self.platform.deploy(None)
                if not back.healthy:
                    self.say(f"WARNING: the platform did not come back healthy: {back.detail}")
                for tag in self._images:
                    self.platform.remove_image(tag)
            self.workspace.cleanup()
        return MutationRun(results, self._clock() - started, source, len(mutants))

    def _built(self, tag: str) -> None:
        """Remember an image to remove. The baseline stays to the end (services a mutant
        does not touch run it); an earlier mutant's image goes once nothing runs on it, so
        a long run does not pile them up."""
        keep = self._images[:1] if self.check_baseline else []
        mutants = self._images[len(keep):]
        for old in mutants[:-1]:
            self.platform.remove_image(old)
        self._images = [*keep, *mutants[-1:], tag]

    def _evaluate(self, mutant: Mutant) -> MutantResult:
        t0 = self._clock()
        timings: dict[str, float] = {}

        def result(outcome: Outcome, **kw: object) -> MutantResult:
            return MutantResult(mutant, outcome, round(self._clock() - t0, 1), timings=timings,
                                **kw)  # type: ignore[arg-type]

        try:
            source = self.workspace.prepare(mutant)
        except DoesNotApply as exc:
            return result(Outcome.DOES_NOT_APPLY, detail=str(exc))
        plan = self.test_map.plan(mutant)
        tests = plan.tests

        def judged(outcome: Outcome, **kw: object) -> MutantResult:
            got = result(outcome, tests=tests, **kw)
            got.selection = list(plan.basis)
            return got

        if not tests:
            return judged(Outcome.SURVIVED, detail="no test is selected for the patched files "
                          "(neither the recorded map nor mutants/test-map.toml names one)")
        tag = image_tag(self.image_repository, mutant)
        mark = self._clock()
        try:
            self.platform.build(source, tag)
        except Exception as exc:  # noqa: BLE001 - reported as this mutant's error, run goes on
            return judged(Outcome.ERROR, detail=f"image build failed: {exc}")
        self._built(tag)
        timings["build"] = round(self._clock() - mark, 1)
        mark = self._clock()
        deployment = self.platform.deploy(tag, files=mutant.files)
        timings["deploy"] = round(self._clock() - mark, 1)
        timings.update({f"deploy: {k}": v for k, v in deployment.phases.items()})
        if deployment.harness_failed:
            return judged(Outcome.ERROR, detail=deployment.detail)
        if not deployment.healthy:
            # A platform that no longer starts is a bug every customer notices.
            return judged(Outcome.KILLED, killer="platform startup", phase="services healthy",
                          detail=deployment.detail)
        run = self._run_selection(plan.lead, tests, mutant.name, timings)
        rerun = ""
        if run.status == "failed" and run.no_answer and run.test:
            run, rerun = self._confirm(run, tests, mutant.name, timings)
        if run.status == "failed":
            got = judged(Outcome.KILLED, killer=run.test, phase=run.phase, detail=run.message)
        elif run.status == "passed":
            got = judged(Outcome.SURVIVED, detail=f"{run.tests_run} test(s) passed")
        elif run.status == "timed_out":
            got = judged(Outcome.TIMED_OUT, killer=run.test, phase=run.phase,
                         detail=run.message)
        else:
            got = judged(Outcome.ERROR, detail=run.message)
        got.rerun = rerun
        return got

    def _run_selection(self, lead: str | None, tests: Sequence[str], name: str,
                       timings: dict[str, float]) -> SuiteRun:
        """The history's killer alone first (no race with other tests for 2 cores), then
        the rest within what is left of the deadline; otherwise all together."""
        if lead is None or len(tests) < 2:
            return self._run_tests(tests, name, timings)
        first = self._run_tests([lead], name, timings, part="-lead")
        if first.status != "passed":
            return first
        left = max(self.test_timeout_s - first.seconds, 60.0)
        # a file or folder among the rest may hold the lead: it is not run twice
        then = self._run_tests([t for t in tests if t != lead], name, timings, timeout=left,
                               exclude=[lead])
        return dataclasses.replace(then, tests_run=then.tests_run + first.tests_run)

    def _run_tests(self, tests: Sequence[str], name: str, timings: dict[str, float],
                   label: str = "", *, part: str = "", timeout: float | None = None,
                   exclude: Sequence[str] = ()) -> SuiteRun:
        """``label`` tells the timings apart (a re-run); ``part`` only the log folder."""
        mark = self._clock()
        run = self.runner.run(tests, timeout or self.test_timeout_s,
                              self.out_dir / (name + label + part), exclude=exclude)
        wall = self._clock() - mark
        key = f"tests{label}"
        timings[key] = round(timings.get(key, 0.0) + wall, 1)
        if run.test_seconds:
            timings[f"pytest start{label}"] = round(
                timings.get(f"pytest start{label}", 0.0) + max(0.0, wall - run.test_seconds), 1)
        return run

    def _confirm(self, first: SuiteRun, tests: Sequence[str], name: str,
                 timings: dict[str, float]) -> tuple[SuiteRun, str]:
        """``first`` failed with no answer from the platform: that test once more on the same
        mutant. Failing again, it is a kill; passing, the whole selection runs once more and
        decides (a slow moment is not a kill)."""
        assert first.test is not None
        self.say(f"  {first.test} got no answer ({first.message[:120]}); re-running it once")
        again = self._run_tests([first.test], name, timings, "-rerun")
        if again.status == "failed":
            return again, (f"{first.test} failed with no answer, and again on a re-run "
                           f"({'no answer' if again.no_answer else 'a wrong answer'})")
        if again.status != "passed":
            return again, f"{first.test} failed with no answer; its re-run: {again.status}"
        self.say("  it passed on the re-run: the selected tests once more")
        final = self._run_tests(tests, name, timings, "-rerun")
        verdict = {"failed": f"killed by {final.test}", "passed": "survived"}.get(
            final.status, final.status)
        return final, (f"{first.test} failed once with no answer and passed on a re-run; "
                       f"the selected tests run again decided: {verdict}")
