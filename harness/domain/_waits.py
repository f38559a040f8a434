"""The seed's waiting helpers, on the one ``wait_for`` engine.

When an EventStream is given, it is the sleep between polls: a poll happens as soon as the
platform announces anything, else every ``interval`` seconds. Polling stays the source of
truth, so a missed or renamed event only costs latency, never correctness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core import HarnessError, wait_for

from ._api import ApiError, PortalClient
from ._events import EventStream
from ._models import OptimizationPublic, RecommendationPublic

# Connection hiccups while polling are retried; other errors surface at once.
TRANSIENT = (ApiError,)


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


def _sleep(events: EventStream | None) -> Callable[[float], None] | None:
    return events.wait_for_new_event if events is not None else None


def _wait(condition: Callable[[], Any], *, timeout: float, interval: float,
          description: str, until: Callable[[Any], bool] | None = None,
          events: EventStream | None = None) -> Any:
    kwargs: dict[str, Any] = {}
    if (sleep := _sleep(events)) is not None:
        kwargs["sleep"] = sleep
    return wait_for(condition, timeout=timeout, interval=interval, transient=TRANSIENT,
                    until=until, description=description, **kwargs)


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

    return _wait(find, timeout=timeout, interval=interval, events=events,  # type: ignore[no-any-return]
                 description=f"a '{kind}' recommendation"
                 + (f" with status '{status}'" if status else ""))


def wait_for_validation(client: PortalClient, rec_id: str, *, min_agents: int = 2,
                        timeout: float = 120.0, interval: float = 1.0,
                        events: EventStream | None = None) -> RecommendationPublic:
    """Until the recommendation is decided: 'validated' (with enough approvals) or 'rejected'."""
    rec: RecommendationPublic = _wait(
        lambda: client.get_recommendation(rec_id), timeout=timeout, interval=interval,
        events=events, until=lambda r: r.status in ("validated", "rejected"),
        description=f"recommendation {rec_id} to be validated by {min_agents}+ agents")
    return rec


def wait_for_optimization_complete(client: PortalClient, opt_id: str, *,
                                   timeout: float = 600.0, interval: float = 1.0,
                                   events: EventStream | None = None) -> OptimizationPublic:
    """Until completed; fails fast (OptimizationFailedError) on rolled_back / failed."""
    opt: OptimizationPublic = _wait(
        lambda: client.get_optimization(opt_id), timeout=timeout, interval=interval,
        events=events, until=lambda o: o.finished,
        description=f"optimization {opt_id} to complete")
    if opt.status != "completed":
        raise OptimizationFailedError(opt)
    return opt


def wait_for_optimization_status(client: PortalClient, opt_id: str, statuses: tuple[str, ...],
                                 *, timeout: float = 600.0, interval: float = 1.0,
                                 events: EventStream | None = None) -> OptimizationPublic:
    """Until the optimization reaches one of ``statuses`` (e.g. waiting for a rollback)."""
    return _wait(lambda: client.get_optimization(opt_id),  # type: ignore[no-any-return]
                 timeout=timeout, interval=interval, events=events,
                 until=lambda o: o.status in statuses,
                 description=f"optimization {opt_id} to reach {'/'.join(statuses)}")


def wait_for_metric_change(read: Callable[[], float | None], *,
                           predicate: Callable[[float], bool], timeout: float = 60.0,
                           interval: float = 1.0, description: str = "metric change") -> float:
    """Until ``predicate(read())`` holds; returns the metric's value."""
    return _wait(read, timeout=timeout, interval=interval,  # type: ignore[no-any-return]
                 until=lambda v: v is not None and predicate(v), description=description)


def wait_for_condition(condition: Callable[[], Any], *, timeout: float = 60.0,
                       interval: float = 0.5, description: str | None = None,
                       events: EventStream | None = None) -> Any:
    """Generic: until ``condition()`` is truthy; returns its value."""
    return _wait(condition, timeout=timeout, interval=interval, events=events,
                 description=description or str(getattr(condition, "__qualname__", "condition")))
