"""Per-second coverage contexts for the platform under `make test-all`.

compose/coverage.override.yml mounts this file as the containers' ``sitecustomize`` (it is
not part of the image): once coverage has started in a process, a thread switches coverage's
dynamic context to the wall-clock second, ``t<epoch seconds>``, every second. Each line the
platform runs is so recorded with when it ran; ``python -m harness mutation-map`` turns the
seconds into the tests that were running then (their windows are written by
``harness.mutation._windows``). Time, not a request header, because much of the platform's
work is tied to no request of the test (agents' tasks, event fan-out, rollout loops), and the
containers share the host's clock.
"""

from __future__ import annotations

import os
import threading
import time


def _tick() -> None:
    import coverage

    deadline = time.monotonic() + 120
    cov = coverage.Coverage.current()
    while cov is None:  # the service starts coverage itself (optiinfra.common.service)
        if time.monotonic() > deadline:
            return  # a process that never measures (e.g. a one-off `python -c`)
        time.sleep(0.1)
        cov = coverage.Coverage.current()
    while True:
        now = time.time()
        try:
            cov.switch_context(f"t{int(now)}")
        except Exception:  # noqa: BLE001 - coverage stopped (the process is ending)
            return
        time.sleep(1.0 - now % 1.0 + 0.001)


if os.environ.get("COVERAGE_PROCESS_START"):
    threading.Thread(target=_tick, name="coverage-clock", daemon=True).start()
