"""The AWS simulator: moto's server mode, plus one thing real EC2 does that moto does not.

EC2 drops a terminated instance from DescribeInstances about an hour after termination; moto
keeps it forever, and every DescribeInstances filters through all of them, so a long-lived
stack got slower with every run (a customer's describe went from 20 ms to 400 ms after a few
hundred terminated instances). ``TerminatedReaper`` forgets reservations whose instances have
all been terminated for ``retention_s`` (default 300 s here).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("aws_sim")


def ec2_backends() -> Iterable[Any]:
    """Every EC2 backend moto has created so far (one per account and region)."""
    from moto.ec2.models import ec2_backends as backends

    for account_id in list(backends.keys()):
        yield from list(backends[account_id].values())


class TerminatedReaper:
    def __init__(self, retention_s: float,
                 backends: Callable[[], Iterable[Any]] = ec2_backends,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.retention_s = retention_s
        self.backends = backends
        self.clock = clock
        self._terminated_since: dict[str, float] = {}  # reservation id -> first seen so

    def sweep(self) -> int:
        """Forget reservations terminated for long enough; return how many instances went."""
        now, removed, seen = self.clock(), 0, set()
        for backend in self.backends():
            # moto copies this dict before iterating it, so removing entries is safe.
            for rid, reservation in list(backend.reservations.items()):
                instances = list(reservation.instances)
                if not instances or any(i.state != "terminated" for i in instances):
                    continue
                seen.add(rid)
                since = self._terminated_since.setdefault(rid, now)
                if now - since < self.retention_s:
                    continue
                backend.reservations.pop(rid, None)
                for inst in instances:
                    backend.tags.pop(inst.id, None)
                removed += len(instances)
                seen.discard(rid)
        self._terminated_since = {r: t for r, t in self._terminated_since.items() if r in seen}
        return removed

    def run_forever(self, every_s: float, stop: threading.Event) -> None:
        while not stop.wait(every_s):
            try:
                if gone := self.sweep():
                    log.info("forgot %d instance(s) terminated over %.0f s ago", gone,
                             self.retention_s)
            except Exception:  # the simulator must keep serving regardless
                log.exception("sweep of terminated instances failed")
