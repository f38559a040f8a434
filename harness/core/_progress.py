"""What ``Stack.up`` prints while it waits, so that a long start is never silent.

Each service's change of state is printed once; every ``every_s`` seconds one line names the
services not ready yet (with their state) and the time since the start began. A cold engine
can keep a service "starting" for minutes: without the periodic line a CI log shows nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from ._status import StackStatus


class StartProgress:
    def __init__(self, say: Callable[[str], None], clock: Callable[[], float], started: float,
                 *, every_s: float = 10.0) -> None:
        self._say = say
        self._clock = clock
        self._started = started
        self._every_s = every_s
        self._last_line = started
        self._seen: dict[str, str] = {}

    def observe(self, status: StackStatus) -> None:
        now = self._clock()
        t = now - self._started
        for s in status.services:
            if self._seen.get(s.name) != s.summary:
                self._seen[s.name] = s.summary
                self._say(f"  {s.name}: {s.summary} (t+{t:.1f}s)")
        if now - self._last_line >= self._every_s:
            self._last_line = now
            waiting = [s for s in status.services if not s.ready]
            if waiting:
                self._say(f"  still waiting at t+{t:.0f}s on {len(waiting)} of "
                          f"{len(status.services)}: "
                          + ", ".join(f"{s.name} ({_state(s.summary)})" for s in waiting))


def _state(summary: str) -> str:
    return "not created yet" if summary == "missing" else summary
