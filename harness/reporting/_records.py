"""Every report of a session becomes a TestRecord (on the controller, under xdist).

The process that ran the test puts what only it knows on the report as plain data
(``report.e2e``: requirement ids, phase timings, the failed phase, the bundle path); xdist
serialises it with the report, so the controller reads it as if it had run the test itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.core import mask_text

from ._traceability import PhaseTiming, TestRecord

META = "e2e"  # the report attribute that carries the test's data


def attach(report: pytest.TestReport, meta: dict[str, Any]) -> None:
    vars(report)[META] = meta  # plain data: xdist ships a report's attributes


def meta_of(report: pytest.TestReport) -> dict[str, Any]:
    meta = vars(report).get(META)
    return meta if isinstance(meta, dict) else {}


def first_line(report: pytest.TestReport) -> str:
    """The first line of the failure (or skip reason), at most 300 characters."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None)
    if text is None:
        longrepr = report.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""


def outcome(report: pytest.TestReport) -> str | None:
    """The test's outcome as this phase's report says it (None: the phase says nothing)."""
    xfail = hasattr(report, "wasxfail")
    if report.when == "setup":
        if report.failed:
            return "error"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "passed"
    if report.when == "call":
        if report.failed:
            return "failed"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "xpassed" if xfail else "passed"
    return "error" if report.failed else None


class RecordBook:
    """The records of one session, by node id, built up report by report."""

    def __init__(self) -> None:
        self.records: dict[str, TestRecord] = {}

    def add(self, report: pytest.TestReport) -> TestRecord:
        rec = self.records.setdefault(report.nodeid,
                                      TestRecord(nodeid=report.nodeid, outcome="not run"))
        meta = meta_of(report)
        if meta.get("requirements"):
            rec.requirements = list(meta["requirements"])
        if meta.get("phases"):
            rec.phases = [PhaseTiming(**p) for p in meta["phases"]]
        rec.failed_phase = meta.get("failed_phase") or rec.failed_phase
        rec.bundle = meta.get("bundle") or rec.bundle
        rec.duration_s += report.duration
        result = outcome(report)
        if report.when == "teardown":
            if result == "error" and rec.outcome != "failed":
                rec.outcome = "error"  # a failed test whose teardown also failed stays failed
        elif result is not None:
            rec.outcome = result
        if report.failed or (report.skipped and report.when != "teardown"):
            rec.message = rec.message or mask_text(first_line(report))
        return rec

    def with_bundles(self) -> list[TestRecord]:
        return [r for r in self.records.values() if r.bundle]
