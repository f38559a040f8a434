"""assert_memory_bounded with a fake engine: warm-up, readings, the error's story."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.core import MemoryGrowthError, assert_memory_bounded


@dataclass
class _Stats:
    memory_used: int


@dataclass
class _Containers:
    used: dict[str, int]
    asked: list[Any] = field(default_factory=list)

    def list(self, filters: list[tuple[str, str]]) -> list[str]:
        self.asked.append(filters)
        service = filters[1][1].split("=", 1)[1]  # ("label", "...service=<name>")
        return [service] if service in self.used else []

    def stats(self, container: str) -> list[_Stats]:
        return [_Stats(self.used[container])]


class _Docker:
    def __init__(self, used: dict[str, int]) -> None:
        self.container = _Containers(used)


class _Stack:
    project = "p"

    def __init__(self, used: dict[str, int]) -> None:
        self._docker = _Docker(used)


MIB = 1024 * 1024


def test_growth_within_the_bound_passes_after_one_warm_up_run() -> None:
    used = {"portal": 100 * MIB}
    stack = _Stack(used)
    runs = []

    def burst() -> None:
        runs.append(1)
        used["portal"] += (50 if len(runs) == 1 else 2) * MIB  # the warm-up allocates once

    (reading,) = assert_memory_bounded(stack, "portal", burst, 10)  # type: ignore[arg-type]
    assert len(runs) == 2 and reading.growth_mib == 2 and reading.bounded


def test_growth_beyond_the_bound_names_the_service_and_the_figures() -> None:
    used = {"agent-cost": 100 * MIB, "portal": 50 * MIB}
    stack = _Stack(used)

    def burst() -> None:
        used["agent-cost"] += 80 * MIB

    with pytest.raises(MemoryGrowthError) as err:
        assert_memory_bounded(stack, ["portal", "agent-cost"], burst, 30,  # type: ignore[arg-type]
                              what="200 distinct regions were asked for")
    text = str(err.value)
    assert "agent-cost: 180.0 -> 260.0 MiB (+80.0 MiB, bound 30 MiB)" in text
    assert "200 distinct regions" in text and "portal" not in text.split("\n", 1)[1]
    assert [r.service for r in err.value.readings] == ["portal", "agent-cost"]


def test_an_unknown_service_says_so() -> None:
    with pytest.raises(LookupError, match="no running container of service 'nope'"):
        assert_memory_bounded(_Stack({}), "nope", lambda: None, 1)  # type: ignore[arg-type]
