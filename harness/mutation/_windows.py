"""pytest plugin (``-p harness.mutation._windows``, loaded by `make test-all`): when
``E2E_TEST_WINDOWS`` names a file, append one JSON line per test with its node id and the
wall-clock seconds it started and ended. With the platform's per-second coverage contexts
(compose/platform/coverage_clock.py) they say which tests ran which platform lines."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator

import pytest

ENV = "E2E_TEST_WINDOWS"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    path = os.environ.get(ENV)
    start = time.time()
    yield
    if not path:
        return
    line = json.dumps({"test": item.nodeid, "start": round(start, 3),
                       "end": round(time.time(), 3),
                       "worker": os.environ.get("PYTEST_XDIST_WORKER", "")})
    # one short line per write: the workers' appends do not interleave
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
