"""WebSocket event stream of one customer: buffered from the moment it connects.

A background thread reads ``/ws/events?token=`` into a buffer, so no event is lost between two
waits. ``wait_for_event`` looks through everything received (not only what arrives next),
and on timeout shows the whole timeline. It and the domain waits run on
``harness.core.wait_for`` with a sleep that an arriving event cuts short
(``wait_for_new_event``), so a poll happens as soon as the platform says something happened.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import connect

from harness.core import HarnessError, WaitTimeoutError, mask_text, wait_for

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
        except (OSError, TimeoutError, WebSocketException) as exc:  # refused, slow, rejected
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
        """The first event (from index ``after``) of ``type`` that satisfies ``predicate``.

        A ``wait_for`` whose sleep wakes as soon as an event arrives; once the stream has
        ended nothing new can come, so it fails at once (EventStreamError) instead of waiting
        out the timeout."""
        seen = after

        def find() -> Event | None:
            nonlocal seen
            with self._cond:
                events, seen, ended = self.events[after:], len(self.events), self._thread_done()
            match = next((e for e in events if e.type == type
                          and (predicate is None or predicate(e))), None)
            if match is None and ended:
                why = f": {self.error}" if self.error else " (closed)"
                raise EventStreamError(
                    f"the event stream ended{why} before a '{type}' event"
                    f"{' matching the predicate' if predicate else ''} came; timeline of "
                    f"{seen} events:\n{self.timeline()}")
            return match

        def sleep(seconds: float) -> None:
            with self._cond:
                self._cond.wait_for(lambda: len(self.events) > seen or self._thread_done(),
                                    seconds)

        what = f"a '{type}' event{' matching the predicate' if predicate else ''}"
        try:
            # The interval only bounds a sleep that an arriving event cuts short.
            found = wait_for(find, timeout=timeout, interval=max(min(timeout, 1.0), 0.01),
                             sleep=sleep, description=what)
        except WaitTimeoutError as exc:
            raise WaitTimeoutError(f"{exc}\n  timeline of {len(self.snapshot())} events:\n"
                                   f"{self.timeline()}", exc.report) from None
        assert found is not None  # wait_for returns only a truthy value without until=
        return found

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
    return mask_text(url)  # the harness's one masking rule (harness.core)
