"""Process plumbing shared by every ``python -m optiinfra.<service>`` entry point."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def start_coverage() -> None:
    """Measure this process when the harness asks (COVERAGE_PROCESS_START names the rc file)."""
    if os.environ.get("COVERAGE_PROCESS_START"):
        try:
            import coverage
        except ImportError:
            return
        coverage.process_startup()


# Idle keep-alive connections outlive the clients' (httpx drops its own after 5 s). When both
# sides used 5 s, a pooled connection closed by the server just as the portal reused it made
# a request fail with ReadError under load.
KEEP_ALIVE_S = 65


def serve(service: str, create_app: Callable[[Any], Any]) -> None:
    """Run one of the HTTP services (portal, orchestrator, workload) under uvicorn."""
    import uvicorn

    from .edge import header_timeout_protocol
    from .settings import get_settings

    start_coverage()
    settings = get_settings()
    setup_logging(settings.log_level, service)
    # ws_max_size: clients send nothing on /ws/events; 16 MiB (uvicorn's default) per message
    # would let one client make the portal buffer that much.
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port,
                log_level=settings.log_level.lower(), access_log=False,
                timeout_keep_alive=KEEP_ALIVE_S, ws_max_size=64 * 1024,
                http=header_timeout_protocol(settings.header_timeout_s))


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
