"""WebSocket event stream of one customer: buffered from the moment it connects.

A background thread reads ``/ws/events?token=`` into a buffer, so no event is lost between two
waits. ``wait_for_event`` looks through everything received (not only what arrives next),
and on timeout shows the whole timeline. Domain waits use ``wait_for_new_event`` as their
sleep, so polling wakes up as soon as the platform says something happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from harness.core import HarnessError, WaitTimeoutError

from ._models import Event


class EventStreamError(HarnessError):
    pass


class EventStream:
    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        self.url = url
        self.events: list[Event] = []
        self._received_at: list[float] = []
        self._cond = threading.Condition()
        self._closed = False
        self.error: BaseException | None = None
        self._started = time.monotonic()
        try:
            # websockets 17: connect() is a context manager; we hold it open until close().
            self._conn = connect(url, open_timeout=connect_timeout, max_size=2**22)
            self._ws = self._conn.__enter__()
        except (OSError, TimeoutError, Exception) as exc:  # noqa: BLE001 - one clear message
            raise EventStreamError(f"could not open the event stream {_mask(url)}: {exc}; "
                                   "is the portal up (make health-check)?") from exc
        self._thread = threading.Thread(target=self._read, name="event-stream", daemon=True)
        self._thread.start()

    @classmethod
    def for_customer(cls, portal_url: str, token: str) -> EventStream:
        ws_url = portal_url.replace("http://", "ws://").replace("https://", "wss://")
        return cls(f"{ws_url}/ws/events?token={token}")

    def _read(self) -> None:
        try:
            for raw in self._ws:
                try:
                    event = Event.model_validate(json.loads(raw))
                except ValueError:
                    event = Event(type="<unparsable>", data={"raw": str(raw)[:500]})
                with self._cond:
                    self.events.append(event)
                    self._received_at.append(time.monotonic())
                    self._cond.notify_all()
        except ConnectionClosed as exc:
            self.error = exc if not self._closed else None
        except Exception as exc:  # noqa: BLE001 - surfaced in timeline and waits
            self.error = exc
        finally:
            with self._cond:
                self._cond.notify_all()

    def close(self) -> None:
        self._closed = True
        self._conn.__exit__(None, None, None)
        self._thread.join(timeout=5)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def snapshot(self) -> list[Event]:
        with self._cond:
            return list(self.events)

    def of_type(self, prefix: str) -> list[Event]:
        return [e for e in self.snapshot() if e.type.startswith(prefix)]

    def wait_for_new_event(self, timeout: float) -> None:
        """Sleep up to ``timeout`` s, waking early when an event arrives (a wait_for sleep)."""
        with self._cond:
            seen = len(self.events)
            self._cond.wait_for(lambda: len(self.events) > seen or self._thread_done(), timeout)

    def _thread_done(self) -> bool:
        return not self._thread.is_alive()

    def wait_for_event(self, type: str, predicate: Callable[[Event], bool] | None = None, *,
                       timeout: float = 30.0, after: int = 0) -> Event:
        """The first event (from index ``after``) of ``type`` that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events[after:]:
                    if event.type == type and (predicate is None or predicate(event)):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._thread_done() and not self._closed):
                    break
                self._cond.wait(remaining)
        why = f" (stream ended: {self.error})" if self.error else ""
        raise WaitTimeoutError(
            f"no '{type}' event{' matching the predicate' if predicate else ''} within "
            f"{timeout:g}s{why}; timeline of {len(self.events)} events:\n{self.timeline()}",
            report=None)

    def timeline(self, limit: int = 200) -> str:
        with self._cond:
            rows = list(zip(self._received_at, self.events, strict=True))[-limit:]
        if not rows:
            return "  (no events received)"
        return "\n".join(
            f"  t+{at - self._started:6.2f}s {e.type:<32} entity={e.entity_id or '-'} "
            f"{_brief(e.data)}" for at, e in rows)


def _brief(data: dict[str, Any]) -> str:
    text = json.dumps(data, default=str, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def _mask(url: str) -> str:
    return url.split("token=")[0] + "token=***" if "token=" in url else url
