"""Resource probes: does a service's memory stay bounded while something hammers it?

``assert_memory_bounded(stack, "portal", burst, max_growth_mib=30)`` runs ``burst`` once to
warm up (first-use allocations: imports, pools, caches that fill once), reads the
container's memory from the engine, runs ``burst`` again, reads it again, and fails when it
grew by more than ``max_growth_mib``. A cache keyed by client input without a bound shows up
as growth on the second burst, whose values are all new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._stack import Stack

MIB = 1024 * 1024


@dataclass(frozen=True)
class MemoryReading:
    service: str
    before_mib: float
    after_mib: float
    max_growth_mib: float

    @property
    def growth_mib(self) -> float:
        return round(self.after_mib - self.before_mib, 1)

    @property
    def bounded(self) -> bool:
        return self.growth_mib <= self.max_growth_mib

    def __str__(self) -> str:
        return (f"{self.service}: {self.before_mib:.1f} -> {self.after_mib:.1f} MiB "
                f"({self.growth_mib:+.1f} MiB, bound {self.max_growth_mib} MiB)")


class MemoryGrowthError(AssertionError):
    """A service's memory grew beyond its bound during an action."""

    def __init__(self, readings: Sequence[MemoryReading], what: str) -> None:
        over = [r for r in readings if not r.bounded]
        super().__init__(
            f"memory grew beyond its bound while {what}:\n"
            + "\n".join(f"  {r}" for r in over)
            + "\n  hint: a cache or registry keyed by client input without a bound (look for "
              "dicts filled per request value), or per-request objects kept alive")
        self.readings = list(readings)


def container_memory_mib(stack: Stack, service: str) -> float:
    """The service's container memory as the engine reports it (``docker stats``: usage
    without the page cache), in MiB."""
    docker = stack._docker  # the stack's own engine client (same package)
    found = docker.container.list(filters=[
        ("label", f"com.docker.compose.project={stack.project}"),
        ("label", f"com.docker.compose.service={service}")])
    if not found:
        raise LookupError(f"no running container of service {service!r} in stack "
                          f"{stack.project!r}")
    stats = docker.container.stats(found[0])
    return round(stats[0].memory_used / MIB, 1)


def assert_memory_bounded(stack: Stack, service: str | Sequence[str],
                          action: Callable[[], Any], max_growth_mib: float, *,
                          warmup: bool = True, what: str | None = None
                          ) -> list[MemoryReading]:
    """Run ``action`` (after one warm-up run) and fail when any of ``service`` grew by more
    than ``max_growth_mib`` MiB; return the readings (print them in the test's story)."""
    services = [service] if isinstance(service, str) else list(service)
    if warmup:
        action()
    before = {s: container_memory_mib(stack, s) for s in services}
    action()
    readings = [MemoryReading(s, before[s], container_memory_mib(stack, s), max_growth_mib)
                for s in services]
    if not all(r.bounded for r in readings):
        raise MemoryGrowthError(readings, what or str(getattr(action, "__name__", "it ran")))
    return readings
