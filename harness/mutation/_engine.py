"""The mutation run: for each patch, apply it to a scratch copy, build the platform image from
it, swap it into the running stack (datastores reset), run the tests that exercise the patched
files until the first failure, and record the outcome. Pure orchestration: the scratch copy,
the platform and the test runner are passed in, so fast tests drive it with fakes."""

from __future__ import annotations

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
from ._selection import SelectionMap


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


@dataclass(frozen=True)
class SuiteRun:
    status: str  # passed | failed | timed_out | error
    seconds: float
    test: str | None = None  # the first failing test
    phase: str | None = None  # its failed phase (the narrative's), or setup/call/teardown
    message: str = ""
    tests_run: int = 0


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
    def run(self, tests: Sequence[str], timeout: float, out_dir: Path) -> SuiteRun: ...


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
                 test_map: SelectionMap, out_dir: Path, *, image_repository: str,
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
        tests = self.test_map.select(mutant)
        tag = image_tag(self.image_repository, mutant)
        mark = self._clock()
        try:
            self.platform.build(source, tag)
        except Exception as exc:  # noqa: BLE001 - reported as this mutant's error, run goes on
            return result(Outcome.ERROR, tests=tests, detail=f"image build failed: {exc}")
        self._built(tag)
        timings["build"] = round(self._clock() - mark, 1)
        mark = self._clock()
        deployment = self.platform.deploy(tag, files=mutant.files)
        timings["deploy"] = round(self._clock() - mark, 1)
        if deployment.harness_failed:
            return result(Outcome.ERROR, tests=tests, detail=deployment.detail)
        if not deployment.healthy:
            # A platform that no longer starts is a bug every customer notices.
            return result(Outcome.KILLED, tests=tests, killer="platform startup",
                          phase="services healthy", detail=deployment.detail)
        mark = self._clock()
        run = self.runner.run(tests, self.test_timeout_s, self.out_dir / mutant.name)
        timings["tests"] = round(self._clock() - mark, 1)
        if run.status == "failed":
            return result(Outcome.KILLED, tests=tests, killer=run.test, phase=run.phase,
                          detail=run.message)
        if run.status == "passed":
            return result(Outcome.SURVIVED, tests=tests,
                          detail=f"{run.tests_run} test(s) passed")
        if run.status == "timed_out":
            return result(Outcome.TIMED_OUT, tests=tests, killer=run.test, phase=run.phase,
                          detail=run.message)
        return result(Outcome.ERROR, tests=tests, detail=run.message)
