"""Which e2e tests to run against a mutant, and in which order.

Two sources, the recorded one first:

- ``mutants/coverage-map.json``, recorded by `make test-all` (see _coverage_map.py): the
  scenario tests that ran the very lines a patch changes. It is a superset (its attribution
  by time is conservative; with several xdist workers, 30-100 tests for a busy line), so it
  prunes the hand map: of the tests the hand map names for the file, those that ran the
  lines (a test that never ran them cannot see them changed); when it names none that did,
  all that did. They run slowest first, so with xdist the long ones start early and the
  short ones fill the gaps; the first failure stops the run. The hand map's first test (its
  most likely killer) runs before them even where the recording did not tie it to the lines:
  a recording taken under load misses some, and a missed killer is a false survivor.
- ``mutants/test-map.toml``, kept by hand, per platform file pattern. It is used for a file
  the recording cannot speak for: not in the map (not Python, never loaded), changed since
  the recording, or whose patched lines ran only at start-up or under no test. Its tests
  that the recording never ran (marked ``serial``: `make test-all` leaves them out; or
  newer than the recording) are kept for every file::

    default = ["scenarios/test_spot_migration.py"]    # files no pattern matches
    [files]
    "optiinfra/orchestrator/rollout.py" = ["scenarios/test_rollback_scenario.py", ...]
    "optiinfra/agents/*" = [...]

A test that killed the same patch in an earlier run (``mutants/kill-history.json``, see
_history.py) goes before all of them and runs alone: most re-runs are then decided by one
test. What each file was judged by is part of the report (``Selection.basis``).
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ._catalogue import Mutant
from ._coverage_map import CoverageMap, blob_sha1, ranges
from ._exceptions import CatalogueError
from ._history import KillHistory

_TEST_DEF = re.compile(r"^(?:async )?def (test_\w+)", re.MULTILINE)


@dataclass(frozen=True)
class Selection:
    tests: list[str]
    basis: list[str] = field(default_factory=list)  # per patched file: how it was judged
    recorded: bool = False  # at least one file's tests came from the recorded map
    lead: str | None = None  # killed this patch in an earlier run: runs first, alone


@dataclass(frozen=True)
class SelectionMap:
    """The hand-kept map (``mutants/test-map.toml``)."""

    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path) -> SelectionMap:
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise CatalogueError(f"no test map {path}: it says which tests exercise which "
                                 "platform files (see harness/mutation/_selection.py)") from None
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path} is not valid TOML: {exc}") from exc
        files = data.get("files", {})
        default = data.get("default", [])
        if not isinstance(files, dict) or not isinstance(default, list) or not all(
                isinstance(v, list) for v in files.values()):
            raise CatalogueError(f"{path}: expected `default = [tests]` and a [files] table "
                                 "of pattern = [tests]")
        return cls({k: tuple(v) for k, v in files.items()}, tuple(default))

    def tests_for_file(self, path: str) -> tuple[str, ...]:
        # The most specific pattern wins: an exact path before a glob, a longer glob first.
        for pattern in sorted(self.files, key=lambda p: ("*" in p, -len(p))):
            if fnmatch.fnmatch(path, pattern):
                return self.files[pattern]
        return self.default

    def select(self, mutant: Mutant) -> list[str]:
        return self.plan(mutant).tests

    def plan(self, mutant: Mutant) -> Selection:
        out: dict[str, None] = {}
        for path in mutant.files:
            for test in self.tests_for_file(path):
                out.setdefault(test, None)
        return Selection(list(out), [f"{p}: test-map.toml" for p in mutant.files])


class Selector:
    """The recorded map where it can speak for a patched file, the hand map elsewhere.

    ``read_source(path)``: the file as the mutants' source has it (None: not there), so a
    file changed since the recording is not judged by stale line numbers. ``is_serial(test)``:
    whether the recording left the test out (``serial``)."""

    def __init__(self, hand: SelectionMap, recorded: CoverageMap | None = None, *,
                 read_source: Callable[[str], bytes | None] | None = None,
                 is_serial: Callable[[str], bool] | None = None,
                 read_test: Callable[[str], str | None] | None = None,
                 history: KillHistory | None = None) -> None:
        self.hand, self.recorded = hand, recorded
        self.history = history or KillHistory()
        self._read = read_source or (lambda _p: None)
        self._serial = is_serial or (lambda _t: False)
        self._read_test = read_test or (lambda _p: None)

    def _newer(self, entry: str) -> list[str]:
        """Tests of a test file the hand map names that the recording never saw (written
        after it): their node ids, kept whatever the map says."""
        if "::" in entry or not entry.endswith(".py") or self.recorded is None:
            return []
        text = self._read_test(entry) or ""
        seen = {t.split("::")[-1].split("[")[0] for t in self.recorded.tests
                if t.startswith(entry + "::")}
        return [f"{entry}::{name}" for name in dict.fromkeys(_TEST_DEF.findall(text))
                if name not in seen]

    def select(self, mutant: Mutant) -> list[str]:
        return self.plan(mutant).tests

    def _unusable(self, path: str) -> str | None:
        """Why the recording cannot speak for ``path``; None when it can."""
        if self.recorded is None:
            return "no recorded map"
        got = self.recorded.files.get(path)
        if got is None:
            return "not in the recorded map"
        data = self._read(path)
        if data is None or blob_sha1(data) != got.sha1:
            return "changed since the recording"
        return None

    def plan(self, mutant: Mutant) -> Selection:
        recorded: set[str] = set()  # node ids the recording ties to the patched lines
        unknown: dict[str, None] = {}  # hand-map entries the recording cannot judge
        pinned: dict[str, None] = {}  # the hand map's first test, where the recording missed it
        basis: list[str] = []
        seconds = self.recorded.tests if self.recorded is not None else {}
        for path in mutant.files:
            named = self.hand.tests_for_file(path)
            why = self._unusable(path)
            if why is None and self.recorded is not None:
                lines = mutant.original_lines(path)
                ran = self.recorded.tests_for(path, lines)
                if ran:
                    # The recording is a superset (see _coverage_map): a test it never saw
                    # run these lines cannot see them changed. The hand map's tests that
                    # ran them are kept; if none did, every test that ran them.
                    kept = {t for t in ran if any(_names(e, t) for e in named)}
                    recorded |= kept or ran
                    unseen = [e for e in named if self._serial(e) or not any(
                        _names(e, t) for t in seconds)]
                    unseen += [t for e in named if e not in unseen for t in self._newer(e)]
                    unknown.update((e, None) for e in unseen)
                    # The hand map's first test is its most likely killer: it runs first even
                    # where the recording did not tie it to these lines (a recording taken
                    # on a loaded machine misses some; a missed killer is a false survivor).
                    if named and not any(_names(named[0], t) for t in kept | set(unseen)):
                        pinned.setdefault(named[0], None)
                        unseen = [*unseen, named[0]]
                    basis.append(
                        f"{path}: recorded map, {len(ran)} test(s) ran line(s) {ranges(lines)}, "
                        + (f"{len(kept)} of them named by test-map.toml" if kept else
                           "none named by test-map.toml, so all of them")
                        + (f"; {len(unseen)} it never ran (serial or newer)" if unseen else "")
                        + (f"; test-map.toml's first, {named[0]}, first" if named[0] in pinned
                           else ""))
                    continue
                startup = self.recorded.files[path].startup
                why = (f"line(s) {ranges(lines)} ran only at start-up"
                       if lines and set(lines) <= startup else
                       f"no recorded test ran line(s) {ranges(lines)}")
            unknown.update((t, None) for t in named)
            basis.append(f"{path}: test-map.toml ({why})")
        first = sorted(recorded, key=lambda t: (-seconds.get(t, 0.0), t))
        rest = [t for t in unknown if t not in pinned and not any(_names(t, r) for r in recorded)]
        tests = [*pinned, *first, *rest]
        lead = self._lead(mutant)
        if lead is not None:
            basis.append(f"kill history: {lead} killed this patch in an earlier run, so it "
                         "runs first, alone")
            tests = [lead, *(t for t in tests if t != lead)]
        return Selection(tests, basis, bool(recorded), lead)

    def _lead(self, mutant: Mutant) -> str | None:
        """The history's killer of this patch, while its test is still defined."""
        killer = self.history.killer_of(mutant)
        if killer is None:
            return None
        path, _, name = killer.partition("::")
        function = name.split("::")[-1].split("[")[0]
        return killer if function in _TEST_DEF.findall(self._read_test(path) or "") else None


def _names(entry: str, test: str) -> bool:
    """Whether a test-map entry (a file, a folder or a node id) takes in the node id."""
    return test == entry or test.startswith(entry.rstrip("/") + ("::" if entry.endswith(".py")
                                                                 else "/"))
