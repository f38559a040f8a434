"""One run made of several pytest sessions (``make test``: fast tests, serial e2e, parallel
e2e, all under one ``E2E_RUN_ID``): each session adds its records to the run's
``.sessions.json``, and the reports of the last one cover the whole run.

This merge crosses processes that run one after another, so it goes through a file; within one
session, xdist's workers hand their data over through ``workeroutput`` (see ``_handoff``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from ._traceability import NOT_RUN, TestRecord, record_from_dict

SESSIONS_FILE = ".sessions.json"  # what the earlier sessions of the run recorded


@dataclass
class RunSoFar:
    """The records, total duration and exit status of a run's sessions up to now."""

    records: list[TestRecord]
    duration_s: float
    exit_status: int


def combine_sessions(earlier: Iterable[TestRecord], latest: Iterable[TestRecord]
                     ) -> list[TestRecord]:
    """A test counts with the outcome of the last session that ran it, and is 'not run' only
    when no session ran it."""
    combined = {r.nodeid: r for r in earlier}
    for r in latest:
        if r.outcome == NOT_RUN and r.nodeid in combined:
            continue
        combined[r.nodeid] = r
    return list(combined.values())


def combined_status(earlier: int, latest: int) -> int:
    """A failure in any session fails the run; 'no tests collected' (5) only if all say so."""
    for status in (earlier, latest):
        if status not in (0, 5):
            return status
    return 5 if earlier == latest == 5 else 0


def load(run_dir: Path) -> RunSoFar | None:
    """What the earlier sessions of the run recorded; None for the first session."""
    try:
        data = json.loads((run_dir / SESSIONS_FILE).read_text())
    except FileNotFoundError:
        return None
    return RunSoFar([record_from_dict(r) for r in data["records"]],
                    float(data["duration_s"]), int(data["exit_status"]))


def save(run_dir: Path, run: RunSoFar) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / SESSIONS_FILE).write_text(json.dumps({
        "records": [asdict(r) for r in run.records], "duration_s": run.duration_s,
        "exit_status": run.exit_status}))


def add_session(run_dir: Path, session: RunSoFar) -> RunSoFar:
    """The whole run with this session in it (saved for the sessions still to come)."""
    earlier = load(run_dir)
    run = session if earlier is None else RunSoFar(
        combine_sessions(earlier.records, session.records),
        earlier.duration_s + session.duration_s,
        combined_status(earlier.exit_status, session.exit_status))
    save(run_dir, run)
    return run
