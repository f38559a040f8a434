"""The recorded coverage map: which e2e tests ran which platform lines, from `make test-all`.

Inside the containers every line is recorded with the wall-clock second it ran in (coverage
contexts ``t<epoch>``, compose/platform/coverage_clock.py); the harness writes when each test
ran (``harness.mutation._windows``). A line belongs to every scenario test whose window,
widened by ``SLACK_S`` after its end, overlaps a second it ran in. That is conservative on
purpose: background work (agents' tasks, event fan-out, a rollout's loop) carries no request
of the test, so it is given to every test running then, including the one that just ended;
with several xdist workers a line also goes to the tests that ran beside its own. Too many
tests cost time; too few would let a mutant survive. Lines run only before the first test
(imports, start-up) are kept apart (``startup``): which test depends on them is unknowable
from coverage, so selection falls back to the hand-kept test map for them.

The committed file (mutants/coverage-map.json)::

    {"source": ..., "recorded": ..., "slack_s": 3,
     "tests": [["scenarios/test_x.py::test_y", 12.3], ...],      # node id, seconds
     "files": {"optiinfra/orchestrator/rollout.py": {
         "sha1": "<git blob id of the file recorded>",
         "startup": "1-40,52",
         "sets": [{"tests": "0-3,7", "lines": "61-64,80"}, ...]}}}
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import CatalogueError

SLACK_S = 3.0
E2E_PREFIX = "scenarios/"


@dataclass(frozen=True)
class TimedTest:
    test: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass(frozen=True)
class FileCoverage:
    sha1: str
    lines: dict[int, frozenset[str]] = field(default_factory=dict)  # line -> tests
    startup: frozenset[int] = frozenset()


@dataclass(frozen=True)
class CoverageMap:
    tests: dict[str, float]  # node id -> seconds it took when recorded
    files: dict[str, FileCoverage]
    source: str = ""
    recorded: str = ""
    slack_s: float = SLACK_S

    # -- building ---------------------------------------------------------------------
    @classmethod
    def build(cls, contexts: dict[str, dict[int, Sequence[str]]], windows: Sequence[TimedTest],
              read_source: Any, *, source: str = "", recorded: str = "",
              slack_s: float = SLACK_S) -> CoverageMap:
        """``contexts``: platform file -> line -> the coverage contexts it ran in;
        ``read_source(path) -> bytes | None`` gives the file as recorded (for its hash)."""
        e2e = [w for w in windows if w.test.startswith(E2E_PREFIX)]
        by_second: dict[int, set[str]] = {}
        for w in e2e:
            for s in range(math.floor(w.start), math.floor(w.end + slack_s) + 1):
                by_second.setdefault(s, set()).add(w.test)
        first = min((w.start for w in windows), default=math.inf)
        files: dict[str, FileCoverage] = {}
        for path, lines in contexts.items():
            data = read_source(path)
            if data is None:
                continue
            covered: dict[int, frozenset[str]] = {}
            startup: set[int] = set()
            for line, ctxs in lines.items():
                tests: set[str] = set()
                for ctx in ctxs:
                    second = _second(ctx)
                    if second is None or second + 1 <= first:
                        startup.add(line)
                    else:
                        tests |= by_second.get(second, set())
                if tests:
                    covered[line] = frozenset(tests)
                    startup.discard(line)
                # else: ran only between tests (a background loop): no test to tie it to
            files[path] = FileCoverage(blob_sha1(data), covered, frozenset(startup))
        durations: dict[str, float] = {}
        for w in e2e:  # a rerun keeps the longest
            durations[w.test] = round(max(durations.get(w.test, 0.0), w.seconds), 1)
        return cls(durations, files, source, recorded, slack_s)

    # -- reading ----------------------------------------------------------------------
    def tests_for(self, path: str, lines: Iterable[int]) -> set[str]:
        f = self.files.get(path)
        out: set[str] = set()
        if f is not None:
            for line in lines:
                out |= f.lines.get(line, frozenset())
        return out

    # -- the committed file -----------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        order = sorted(self.tests)
        index = {t: i for i, t in enumerate(order)}
        files: dict[str, Any] = {}
        for path in sorted(self.files):
            f = self.files[path]
            groups: dict[tuple[int, ...], list[int]] = {}
            for line, tests in f.lines.items():
                groups.setdefault(tuple(sorted(index[t] for t in tests if t in index)),
                                  []).append(line)
            files[path] = {
                "sha1": f.sha1, "startup": ranges(f.startup),
                "sets": [{"tests": ranges(k), "lines": ranges(v)}
                         for k, v in sorted(groups.items(), key=lambda kv: min(kv[1]))]}
        return {"about": "which e2e tests ran which platform lines, recorded by make "
                         "test-all (harness/mutation/_coverage_map.py)",
                "source": self.source, "recorded": self.recorded, "slack_s": self.slack_s,
                "tests": [[t, self.tests[t]] for t in order], "files": files}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CoverageMap:
        order = [t for t, _ in data["tests"]]
        tests = {t: float(s) for t, s in data["tests"]}
        files = {}
        for path, f in data["files"].items():
            lines: dict[int, frozenset[str]] = {}
            for group in f["sets"]:
                names = frozenset(order[i] for i in parse_ranges(group["tests"]))
                for line in parse_ranges(group["lines"]):
                    lines[line] = names
            files[path] = FileCoverage(f["sha1"], lines, frozenset(parse_ranges(f["startup"])))
        return cls(tests, files, data.get("source", ""), data.get("recorded", ""),
                   float(data.get("slack_s", SLACK_S)))

    @classmethod
    def load(cls, path: Path) -> CoverageMap:
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise CatalogueError(f"{path} is not a coverage map ({type(exc).__name__}: {exc}); "
                                 "record it again with `make test-all`") from exc

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")


def _second(context: str) -> int | None:
    if context.startswith("t") and context[1:].isdigit():
        return int(context[1:])
    return None


def blob_sha1(data: bytes) -> str:
    """The file's git blob id: the same as `git hash-object`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def ranges(numbers: Iterable[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3,7"``."""
    out: list[str] = []
    nums = sorted(set(numbers))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(out)


def parse_ranges(text: str) -> list[int]:
    out: list[int] = []
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def read_windows(path: Path) -> list[TimedTest]:
    out = []
    for line in path.read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(TimedTest(d["test"], float(d["start"]), float(d["end"])))
    return out


def contexts_of(data: Any) -> dict[str, dict[int, list[str]]]:
    """platform file (repo-relative) -> line -> contexts, from a coverage.CoverageData."""
    out: dict[str, dict[int, list[str]]] = {}
    for measured in data.measured_files():
        at = measured.replace("\\", "/").rfind("optiinfra/")
        if at < 0:
            continue
        lines = data.contexts_by_lineno(measured)
        if lines:
            merged = out.setdefault(measured[at:], {})
            for line, ctxs in lines.items():
                merged.setdefault(line, []).extend(ctxs)
    return out
