"""One way to wait: ``wait_for(condition, timeout=, interval=, transient=(...))``.

A condition is a plain callable. It is "met" when it returns a truthy value (returned), or,
with ``until=``, when ``until(value)`` is true. Only exceptions listed in ``transient`` are
retried; anything else propagates at once. Clock and sleep are injectable so unit tests never
sleep; ``sleep`` is also how an event source wakes a wait early (it may return before the
interval is up). On timeout, WaitTimeoutError shows what was awaited, for how long, how often
(interval, attempts), the last value, the last exception, and the history of distinct values
seen (what changed, and when): one format for every wait of the harness and its scenarios.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._exceptions import WaitTimeoutError

T = TypeVar("T")
_MISSING: Any = object()


@dataclass
class WaitReport:
    description: str
    timeout_s: float
    interval_s: float = 0.0
    elapsed_s: float = 0.0
    attempts: int = 0
    last_value: Any = _MISSING
    last_exception: BaseException | None = None
    # (seconds since start, repr of value) each time the value changed
    history: list[tuple[float, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"timed out after {self.elapsed_s:.1f}s (timeout {self.timeout_s:g}s, every "
                 f"{self.interval_s:g}s, {self.attempts} attempts) waiting for "
                 f"{self.description}"]
        if self.last_value is not _MISSING:
            lines.append(f"  last value: {_short(repr(self.last_value))}")
        if self.last_exception is not None:
            exc = self.last_exception
            lines.append(f"  last exception: {type(exc).__name__}: {_short(str(exc))}")
        if self.history:
            lines.append("  values seen (t+s: value):")
            lines.extend(f"    t+{t:.1f}s: {_short(v)}" for t, v in self.history[-15:])
        return "\n".join(lines)


def wait_for(
    condition: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.5,
    transient: tuple[type[BaseException], ...] = (),
    until: Callable[[T], bool] | None = None,
    description: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[WaitReport], None] | None = None,
) -> T:
    """Call ``condition`` until it is met or ``timeout`` seconds pass; return its value."""
    if not timeout >= 0 or not interval > 0:  # also rejects NaN
        raise ValueError(f"wait_for: timeout must be >= 0 and interval > 0 "
                         f"(got timeout={timeout}, interval={interval})")
    report = WaitReport(description or _describe(condition), timeout, interval)
    start = clock()
    while True:
        report.attempts += 1
        try:
            value = condition()
        except transient as exc:
            report.last_exception = exc
            _note(report, clock() - start, f"<{type(exc).__name__}: {exc}>")
        else:
            report.last_value = value
            report.last_exception = None
            _note(report, clock() - start, repr(value))
            if (until(value) if until is not None else bool(value)):
                return value
        if on_attempt is not None:
            on_attempt(report)
        report.elapsed_s = clock() - start
        remaining = timeout - report.elapsed_s
        if remaining <= 0:
            raise WaitTimeoutError(report.render(), report) from report.last_exception
        sleep(min(interval, remaining))


def _note(report: WaitReport, t: float, value: str) -> None:
    if not report.history or report.history[-1][1] != value:
        report.history.append((t, value))


def _describe(condition: Callable[..., Any]) -> str:
    return getattr(condition, "__qualname__", None) or repr(condition)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
