"""The seed's waiting helpers, on the one ``wait_for`` engine.

When an EventStream is given, it is the sleep between polls: a poll happens as soon as the
platform announces anything, else every ``interval`` seconds. Polling stays the source of
truth, so a missed or renamed event only costs latency, never correctness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from harness.core import HarnessError, wait_for

from ._api import ApiUnreachableError, PortalClient
from ._events import EventStream
from ._models import OptimizationPublic, RecommendationPublic

T = TypeVar("T")

# Only "no answer" (connect/read errors, 502/503/504) is retried while polling: a 401, 404 or
# 422 will not change by asking again, so it fails the wait at once with its status and body.
TRANSIENT: tuple[type[BaseException], ...] = (ApiUnreachableError,)


class OptimizationFailedError(HarnessError, AssertionError):
    """An optimization ended in rolled_back/failed while we waited for it to complete."""

    def __init__(self, opt: OptimizationPublic) -> None:
        self.optimization = opt
        super().__init__(
            f"optimization {opt.id} ended '{opt.status}' instead of 'completed'; "
            f"reason: {opt.reason or '(none given)'}\n{steps_table(opt)}")


def steps_table(opt: OptimizationPublic) -> str:
    rows = [f"  {'step':<28} {'status':<12} {'traffic':>7} {'took':>7}"]
    for s in opt.steps:
        took = f"{s.duration_s:.1f}s" if s.duration_s is not None else "-"
        pct = f"{s.traffic_pct:g}%" if s.traffic_pct is not None else "-"
        rows.append(f"  {s.name:<28} {s.status:<12} {pct:>7} {took:>7}")
    return "\n".join(rows)


def _wait(condition: Callable[[], T], *, timeout: float, interval: float,
          description: str, until: Callable[[T], bool] | None = None,
          events: EventStream | None = None) -> T:
    if events is None:
        return wait_for(condition, timeout=timeout, interval=interval, transient=TRANSIENT,
                        until=until, description=description)
    return wait_for(condition, timeout=timeout, interval=interval, transient=TRANSIENT,
                    until=until, description=description, sleep=events.wait_for_new_event)


def wait_for_recommendation(client: PortalClient, *, kind: str = "spot_migration",
                            status: str | None = None, timeout: float = 120.0,
                            interval: float = 1.0, events: EventStream | None = None,
                            exclude: set[str] | None = None) -> RecommendationPublic:
    """The first recommendation of ``kind`` (and ``status``, when given) for this customer."""
    skip = exclude or set()

    def find() -> RecommendationPublic | None:
        recs = client.list_recommendations(kind=kind).data
        return next((r for r in recs if r.id not in skip
                     and (status is None or r.status == status)), None)

    found = _wait(find, timeout=timeout, interval=interval, events=events,
                  description=f"a '{kind}' recommendation"
                  + (f" with status '{status}'" if status else ""))
    assert found is not None  # wait_for returns only a truthy value without until=
    return found


def wait_for_validation(client: PortalClient, rec_id: str, *, min_agents: int = 2,
                        timeout: float = 120.0, interval: float = 1.0,
                        events: EventStream | None = None) -> RecommendationPublic:
    """Until the recommendation is decided: 'rejected' (returned at once, whoever rejected
    it), or 'validated' with approvals from at least ``min_agents`` distinct agents (more
    verdicts may still come in after the status turned; a timeout shows the last seen)."""

    def decided(r: RecommendationPublic) -> bool:
        return r.status == "rejected" or (
            r.status == "validated" and len(r.approving_agents) >= min_agents)

    return _wait(lambda: client.get_recommendation(rec_id), timeout=timeout,
                 interval=interval, events=events, until=decided,
                 description=f"recommendation {rec_id} to be rejected, or validated with "
                 f"approvals of {min_agents}+ agents")


def wait_for_optimization_complete(client: PortalClient, opt_id: str, *,
                                   timeout: float = 600.0, interval: float = 1.0,
                                   events: EventStream | None = None) -> OptimizationPublic:
    """Until completed; fails fast (OptimizationFailedError) on rolled_back / failed."""
    opt = _wait(lambda: client.get_optimization(opt_id), timeout=timeout, interval=interval,
                events=events, until=lambda o: o.finished,
                description=f"optimization {opt_id} to complete")
    if opt.status != "completed":
        raise OptimizationFailedError(opt)
    return opt


def wait_for_optimization_status(client: PortalClient, opt_id: str, statuses: tuple[str, ...],
                                 *, timeout: float = 600.0, interval: float = 1.0,
                                 events: EventStream | None = None) -> OptimizationPublic:
    """Until the optimization reaches one of ``statuses`` (e.g. waiting for a rollback)."""
    return _wait(lambda: client.get_optimization(opt_id),
                 timeout=timeout, interval=interval, events=events,
                 until=lambda o: o.status in statuses,
                 description=f"optimization {opt_id} to reach {'/'.join(statuses)}")


def wait_for_metric_change(read: Callable[[], float | None], *,
                           predicate: Callable[[float], bool], timeout: float = 60.0,
                           interval: float = 1.0, description: str = "metric change") -> float:
    """Until ``predicate(read())`` holds; returns the metric's value."""
    value = _wait(read, timeout=timeout, interval=interval,
                  until=lambda v: v is not None and predicate(v), description=description)
    assert value is not None  # until= rejected None
    return value


def wait_for_condition(condition: Callable[[], T], *, timeout: float = 60.0,
                       interval: float = 0.5, description: str | None = None,
                       events: EventStream | None = None) -> T:
    """Generic: until ``condition()`` is truthy; returns its value."""
    return _wait(condition, timeout=timeout, interval=interval, events=events,
                 description=description or str(getattr(condition, "__qualname__",
                                                        "condition")))
