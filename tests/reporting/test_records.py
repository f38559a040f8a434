"""Reports -> TestRecords: outcome rules, the data a worker puts on a report, masking."""

from __future__ import annotations

import pytest

from harness.reporting import RecordBook, first_line, outcome
from harness.reporting._records import attach, meta_of

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-03")]


def report(when: str, result: str, *, nodeid: str = "t.py::a", duration: float = 1.0,
           longrepr: object = None, xfail: bool = False) -> pytest.TestReport:
    rep = pytest.TestReport(nodeid, ("t.py", 1, "a"), {}, result, longrepr, when, [],
                            duration=duration)
    if xfail:
        rep.wasxfail = "known bug"  # type: ignore[attr-defined]  # as pytest's skipping sets it
    return rep


@pytest.mark.parametrize(("when", "result", "xfail", "expected"), [
    ("setup", "passed", False, "passed"),
    ("setup", "failed", False, "error"),
    ("setup", "skipped", False, "skipped"),
    ("call", "passed", False, "passed"),
    ("call", "failed", False, "failed"),
    ("call", "skipped", True, "xfailed"),
    ("call", "passed", True, "xpassed"),
    ("teardown", "passed", False, None),
    ("teardown", "failed", False, "error"),
])
def test_each_phase_says_its_outcome(when, result, xfail, expected):
    assert outcome(report(when, result, xfail=xfail)) == expected


def test_a_failed_test_whose_teardown_also_fails_stays_failed():
    book = RecordBook()
    for when, result in (("setup", "passed"), ("call", "failed"), ("teardown", "failed")):
        book.add(report(when, result, longrepr="boom"))
    (rec,) = book.records.values()
    assert (rec.outcome, rec.duration_s) == ("failed", 3.0)


def test_a_passed_test_whose_teardown_fails_is_an_error():
    book = RecordBook()
    for when, result in (("setup", "passed"), ("call", "passed"), ("teardown", "failed")):
        book.add(report(when, result, longrepr="teardown boom"))
    assert book.records["t.py::a"].outcome == "error"
    assert book.records["t.py::a"].message == "teardown boom"


def test_what_the_worker_attached_reaches_the_record():
    rep = report("call", "failed", longrepr="AssertionError: cost did not drop")
    attach(rep, {"requirements": ["REQ-SPOT-01"], "failed_phase": "PHASE 8: Validating",
                 "bundle": "artifacts/run/t.py__a",
                 "phases": [{"number": 8, "title": "Validating", "outcome": "failed",
                             "duration_s": 0.5}]})
    assert meta_of(rep)["requirements"] == ["REQ-SPOT-01"]
    book = RecordBook()
    rec = book.add(rep)
    assert rec.requirements == ["REQ-SPOT-01"]
    assert (rec.failed_phase, rec.bundle) == ("PHASE 8: Validating", "artifacts/run/t.py__a")
    assert [(p.number, p.outcome) for p in rec.phases] == [(8, "failed")]
    assert book.with_bundles() == [rec]


def test_the_message_is_the_first_line_with_secrets_masked():
    rep = report("call", "failed", longrepr="\nGET /x?token=abc123secret -> 401\nmore\n")
    assert first_line(rep) == "GET /x?token=abc123secret -> 401"
    assert RecordBook().add(rep).message == "GET /x?token=*** -> 401"


def test_a_report_without_attached_data_has_none():
    assert meta_of(report("call", "passed")) == {}
