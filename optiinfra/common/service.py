"""Process plumbing shared by every ``python -m optiinfra.<service>`` entry point."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path


def start_coverage() -> None:
    """Measure this process when the harness asks (COVERAGE_PROCESS_START names the rc file)."""
    if os.environ.get("COVERAGE_PROCESS_START"):
        try:
            import coverage
        except ImportError:
            return
        coverage.process_startup()


def setup_logging(level: str, service: str) -> None:
    logging.basicConfig(
        level=level.upper(), stream=sys.stdout,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")


def stop_event() -> threading.Event:
    """Set on SIGTERM/SIGINT so loops end cleanly (and coverage can write its data)."""
    ev = threading.Event()

    def _handler(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("signal %s: stopping", signum)
        ev.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return ev


class Heartbeat:
    """A file touched by a live loop; the container healthcheck reads its age."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._last = 0.0

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._last >= 1.0:
            self.path.touch()
            self._last = now


def heartbeat_fresh(path: str, max_age_s: float) -> bool:
    try:
        return time.time() - Path(path).stat().st_mtime <= max_age_s
    except FileNotFoundError:
        return False
