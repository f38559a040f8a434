"""Which e2e tests to run against a mutant, most likely killer first.

The map (``mutants/test-map.toml``) says, per platform file pattern, which tests exercise
that code. It stands in for per-test coverage contexts recorded inside the containers (not
reachable yet: the services are long-lived and shared by tests running at once, so coverage
cannot tell whose request ran a line); it is the same shape such a recording would produce::

    default = ["scenarios/test_spot_migration.py"]    # files no pattern matches
    [files]
    "optiinfra/orchestrator/rollout.py" = ["scenarios/test_rollback_scenario.py", ...]
    "optiinfra/agents/*" = [...]

The tests of every file the patch touches are merged in order, first seen first.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._catalogue import Mutant
from ._exceptions import CatalogueError


@dataclass(frozen=True)
class SelectionMap:
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
        out: dict[str, None] = {}
        for path in mutant.files:
            for test in self.tests_for_file(path):
                out.setdefault(test, None)
        return list(out)
