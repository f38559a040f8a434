"""Flaky as a third outcome, beside passed and failed (nightly and release-candidate runs).

pytest-rerunfailures (``--reruns 1``) retries a failed test once; the attempt it retries is
reported with the outcome ``rerun``. A test that then passes is FLAKY: never silently green.
It counts apart in the summary, carries its first attempt's failure and bundle (the bundle was
written when that attempt failed, before the retry), and gets a ``flakyFailure`` element in
the JUnit XML (``rerunFailure`` when the retry failed too), as Maven Surefire writes them.
Without ``--reruns`` nothing here changes a run (``make test`` retries nothing).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core import mask_text

from ._records import first_line, meta_of
from ._traceability import TestRecord

RERUN = "rerun"  # pytest-rerunfailures' outcome for an attempt it retries
FLAKY = "flaky"
_STACK_LIMIT = 20_000  # characters of a retried attempt's traceback kept in the JUnit XML


@dataclass(frozen=True)
class Attempt:
    """One retried (failed) attempt of a test."""

    when: str  # setup | call | teardown
    message: str
    longrepr: str
    bundle: str


class FlakyBook:
    """The retried attempts of a session's tests, by node id (fed with every report)."""

    def __init__(self) -> None:
        self.attempts: dict[str, list[Attempt]] = {}

    def add(self, report: pytest.TestReport) -> bool:
        """Note ``report`` if it is a retried attempt; True when it was one."""
        if report.outcome != RERUN:  # pytest-rerunfailures sets this outcome of its own
            return False
        self.attempts.setdefault(report.nodeid, []).append(Attempt(
            when=report.when or "call", message=mask_text(first_line(report)),
            longrepr=mask_text(report.longreprtext)[:_STACK_LIMIT],
            bundle=str(meta_of(report).get("bundle") or "")))
        return True

    def apply(self, records: Mapping[str, TestRecord]) -> list[TestRecord]:
        """Mark the tests that passed on a retry FLAKY, with their first attempt's failure
        and bundle; return them."""
        flaky = []
        for nodeid, attempts in self.attempts.items():
            rec = records.get(nodeid)
            if rec is None or rec.outcome != "passed":
                continue
            first = attempts[0]
            rec.outcome = FLAKY
            rec.message = f"passed on retry; attempt 1 failed ({first.when}): {first.message}"
            rec.bundle = first.bundle or rec.bundle
            flaky.append(rec)
        return flaky

    def final_outcomes(self, records: Mapping[str, TestRecord]) -> dict[str, str]:
        return {n: records[n].outcome for n in self.attempts if n in records}


def junit_address(nodeid: str) -> tuple[str, str]:
    """The (classname, name) pytest's junitxml gives a node id (``a/b.py::C::t[x]`` ->
    ``("a.b.C", "t[x]")``), as ``_pytest.junitxml.mangle_test_address`` does."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def _error_type(message: str) -> str:
    match = re.match(r"([A-Za-z_][\w.]*(?:Error|Exception|Failed|Timeout\w*))\b", message)
    return match.group(1) if match else "AssertionError"


def mark_retries_in_junit(path: Path, attempts: Mapping[str, list[Attempt]],
                          outcomes: Mapping[str, str]) -> int:
    """Add each retried attempt to its testcase in the JUnit XML at ``path``: a
    ``flakyFailure`` when the test ended FLAKY, a ``rerunFailure`` when it failed anyway.
    Returns how many testcases were marked."""
    if not attempts or not path.is_file():
        return 0
    tree = ET.parse(path)
    by_address: dict[tuple[str, str], str] = {junit_address(n): n for n in attempts}
    marked = 0
    for case in tree.getroot().iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        nodeid = by_address.get(key) or next(  # a junit_suite prefix goes before the class
            (n for (cls, name), n in by_address.items()
             if name == key[1] and key[0].endswith(cls)), None)
        if nodeid is None:
            continue
        # "passed" too: a report problem may have stopped the records from being marked
        tag = "flakyFailure" if outcomes.get(nodeid) in (FLAKY, "passed") else "rerunFailure"
        for a in attempts[nodeid]:
            el = ET.SubElement(case, tag, message=a.message, type=_error_type(a.message))
            ET.SubElement(el, "stackTrace").text = a.longrepr
            if a.bundle:
                ET.SubElement(el, "system-out").text = f"failure bundle: {a.bundle}"
        marked += 1
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return marked
