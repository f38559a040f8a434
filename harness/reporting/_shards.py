"""Nightly shards balanced by wall time, not by test time.

A shard runs its ``serial`` tests one after another, then the rest on xdist workers, so its
wall is about serial seconds + parallel seconds / K, where K is what the workers achieve
together: the worker count where there are cores for them, less where there are not (4
workers on 2 cores achieved 2.0-2.9 in a 3-shard nightly; hence the default
min(workers, 1.25 x cores)). pytest-split splits whatever is left after ``-m``, i.e. each
part on its own: test seconds balanced part by part, walls apart (a 3-shard nightly: 648 /
485 / 578 s). Here the whole collection is split once, before ``-m`` picks a part, each test
weighted by what it adds to its shard's wall (serial: its seconds; parallel: its seconds /
K). Both of a shard's pytest calls (``--shard G/N -m serial`` and ``-m "not serial"``)
compute the same plan and keep their part of group G. The balancing itself is pytest-split's
least-duration algorithm, given the weighted seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_split.algorithms import Algorithms

from harness.core import ConfigError

SERIAL_MARK = "serial"


@dataclass(frozen=True)
class _Node:  # what pytest-split's algorithm reads of a test item
    nodeid: str


@dataclass(frozen=True)
class Shard:
    """One group of the plan: its tests and the seconds they are expected to take."""

    number: int
    serial: tuple[str, ...]
    parallel: tuple[str, ...]
    serial_s: float
    parallel_s: float  # test seconds, before dividing by the parallelism
    parallelism: float

    @property
    def wall_s(self) -> float:
        return self.serial_s + self.parallel_s / self.parallelism

    def line(self) -> str:
        return (f"shard {self.number}: {len(self.serial)} serial ({self.serial_s:.0f} s) + "
                f"{len(self.parallel)} parallel ({self.parallel_s:.0f} s of tests / "
                f"{self.parallelism:g}) ~ {self.wall_s:.0f} s")


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); anything else is a ConfigError that says what was expected."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise ConfigError(f"--shard {text!r}: expected G/N with 1 <= G <= N, e.g. --shard 2/3")
    return int(m[1]), int(m[2])


def load_durations(path: Path) -> dict[str, float]:
    """pytest-split's JSON file; a missing file is no durations (every test weighs alike)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise ConfigError(f"{path} is not pytest-split's JSON durations file ({exc}); "
                          "refresh it with `make durations` or restore it from git") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} should map test ids to seconds; refresh it with "
                          "`make durations`")
    return {str(k): float(v) for k, v in data.items()}


def default_parallelism(workers: int, cpus: int | None) -> float:
    """What ``workers`` xdist workers achieve together on ``cpus`` cores (see above)."""
    return round(min(float(workers), 1.25 * (cpus or 1)), 2)


def plan_shards(tests: Mapping[str, bool], durations: dict[str, float], shards: int,
                parallelism: float) -> list[Shard]:
    """Split ``tests`` (node id -> serial or not) into ``shards`` groups of about equal wall
    time. A test without a recorded duration counts as the average of those with one
    (pytest-split's rule)."""
    if shards < 1 or not parallelism >= 1:
        raise ConfigError(f"shards ({shards}) and the parallelism ({parallelism}) must be at "
                          "least 1")
    ordered = [_Node(n) for n in sorted(tests)]  # the same plan in every process
    known = [durations[n] for n in tests if n in durations]
    average = sum(known) / len(known) if known else 1.0
    seconds = {n: durations.get(n, average) for n in tests}
    weights = {n: s if tests[n] else s / parallelism for n, s in seconds.items()}
    groups = Algorithms.least_duration.value(shards, ordered, weights)  # type: ignore[arg-type]
    plan = []
    for number, group in enumerate(groups, start=1):
        ids = [t.nodeid for t in group.selected]
        plan.append(Shard(number=number,
                          serial=tuple(n for n in ids if tests[n]),
                          parallel=tuple(n for n in ids if not tests[n]),
                          serial_s=sum(seconds[n] for n in ids if tests[n]),
                          parallel_s=sum(seconds[n] for n in ids if not tests[n]),
                          parallelism=parallelism))
    return plan


class ShardSelection:
    """pytest plugin (registered by ``--shard G/N``): keeps group G's tests of the whole
    collection, ahead of ``-m`` and of pytest-split, and shows the plan under "collected"."""

    def __init__(self, config: pytest.Config, shard: str, parallelism: float, durations: Path
                 ) -> None:
        self.group, self.shards = parse_shard(shard)
        self.parallelism = parallelism
        self.durations = durations if durations.is_absolute() else config.rootpath / durations
        self.lines: list[str] = []

    @pytest.hookimpl(tryfirst=True)  # before the mark plugin drops the other part
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        tests = {i.nodeid: i.get_closest_marker(SERIAL_MARK) is not None for i in items}
        plan = plan_shards(tests, load_durations(self.durations), self.shards,
                           self.parallelism)
        mine = plan[self.group - 1]
        keep = set(mine.serial) | set(mine.parallel)
        self.lines = [f"[shard {self.group}/{self.shards}] planned from "
                      f"{self.durations.name} (wall ~ serial s + parallel s / parallelism):"]
        self.lines += [("  > " if shard is mine else "    ") + shard.line() for shard in plan]
        dropped = [i for i in items if i.nodeid not in keep]
        items[:] = [i for i in items if i.nodeid in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)

    def pytest_report_collectionfinish(self) -> list[str]:  # not shown by xdist's workers
        return self.lines
