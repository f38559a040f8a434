"""Inside one xdist session, what each worker collected reaches the controller through
xdist's own channel: the worker puts it in ``config.workeroutput`` (sent when the worker
finishes), and the controller reads ``node.workeroutput`` in ``pytest_testnodedown``.

The controller collects nothing itself, yet the traceability matrix must list the tests that
were collected but not run (deselected, or not reached after ``-x``). Per-test results travel
on the reports themselves (``report.e2e``, see ``_records``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

KEY = "optiinfra_e2e_collected"  # nodeid -> requirement ids, in workeroutput


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def worker_id(config: pytest.Config) -> str | None:
    workerinput: Mapping[str, Any] | None = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def send_collected(config: pytest.Config, collected: Mapping[str, list[str]]) -> None:
    """On a worker: hand what it collected to the controller (plain data: execnet ships it)."""
    workeroutput: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[KEY] = {nodeid: list(reqs) for nodeid, reqs in collected.items()}


def received_collected(node: object) -> dict[str, list[str]]:
    """On the controller: what a finished worker collected ({} when it died before saying)."""
    workeroutput: Mapping[str, Any] = getattr(node, "workeroutput", None) or {}
    data = workeroutput.get(KEY) or {}
    return {str(nodeid): [str(r) for r in reqs] for nodeid, reqs in data.items()}
