"""Signal handling that keeps teardown from being skipped.

- ``interrupts_raise()``: SIGTERM behaves like Ctrl-C (raises ``Interrupted``, a
  KeyboardInterrupt), so the ``except``/``finally`` blocks that tear down still run.
- ``interrupts_deferred()``: SIGINT/SIGTERM during a teardown are remembered, not acted on;
  the teardown finishes, then ``Interrupted`` is raised.
Outside the main thread signals cannot be handled; both are then no-ops.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def interrupts_raise() -> Iterator[None]:
    if not _main_thread():
        yield
        return

    def _raise(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    if not _main_thread():
        yield
        return
    received: list[int] = []

    def _remember(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, _remember) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if received:
        raise Interrupted(received[0])


def install_sigterm_as_interrupt() -> None:
    """For long-lived processes (a pytest session): SIGTERM unwinds like Ctrl-C."""
    if _main_thread():
        def _raise(signum: int, _frame: FrameType | None) -> None:
            raise Interrupted(signum)
        signal.signal(signal.SIGTERM, _raise)
