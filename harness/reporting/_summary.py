"""The one-page Markdown summary of a run, for a nightly job to post.

Verdict and totals first, then pass/fail per scenario (test file), the failures with the phase
they failed in and their bundle, phase durations, the slowest phases, and the requirements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from ._traceability import FAILED, NOT_RUN, UNCOVERED, Matrix, TestRecord

_ORDER = ("passed", "flaky", "failed", "error", "skipped", "xfailed", "xpassed", NOT_RUN)
_BAD = {"failed", "error", "xpassed"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _test_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[1] if "::" in nodeid else nodeid


def render_summary(run_id: str, records: Iterable[TestRecord], matrix: Matrix | None = None,
                   *, duration_s: float | None = None, exit_status: int | None = None,
                   slowest: int = 10) -> str:
    recs = sorted(records, key=lambda r: r.nodeid)
    ran = [r for r in recs if r.outcome != NOT_RUN]
    counts = Counter(r.outcome for r in recs)
    bad = [r for r in ran if r.outcome in _BAD]
    verdict = "FAILED" if bad or exit_status not in (None, 0) else "PASSED"
    if not ran and not bad:
        verdict = "NO TESTS RAN" if exit_status in (None, 0, 5) else "FAILED"
    flaky = [r for r in ran if r.outcome == "flaky"]  # passed only on retry: never plain green
    if verdict == "PASSED" and flaky:
        verdict = f"FLAKY ({len(flaky)} passed only on retry)"
    took = f" in {duration_s:.1f}s" if duration_s is not None else ""
    totals = ", ".join(f"{counts[o]} {o}" for o in _ORDER if counts[o] and o != NOT_RUN)
    if counts[NOT_RUN]:
        took += f"; {counts[NOT_RUN]} more collected but not run (deselected or not reached)"
    out = [f"# E2E run `{run_id}`: {verdict}", "",
           f"{totals or 'no tests ran'}{took}"
           + (f" (pytest exit status {exit_status})" if exit_status not in (None, 0) else "")
           + f". Written {datetime.now(UTC).isoformat(timespec='seconds')}.", ""]

    # -- per scenario
    scenarios: dict[str, list[TestRecord]] = {}
    for r in ran:
        scenarios.setdefault(r.scenario, []).append(r)
    if scenarios:
        out += ["## Scenarios", "", "| scenario | result | passed | failed | skipped | seconds |",
                "|---|---|---:|---:|---:|---:|"]
        for name, rs in scenarios.items():
            c = Counter(r.outcome for r in rs)
            failed = sum(c[o] for o in _BAD)
            skipped = c["skipped"] + c["xfailed"]
            result = "FAIL" if failed else ("FLAKY" if c["flaky"] else
                                            "pass" if c["passed"] else "skip")
            passed = f"{c['passed']}" + (f" (+{c['flaky']} flaky)" if c["flaky"] else "")
            out.append(f"| `{_cell(name)}` | {result} | {passed} | {failed} | {skipped} | "
                       f"{sum(r.duration_s for r in rs):.1f} |")
        out.append("")

    # -- failures
    if bad:
        out += [f"## Failures ({len(bad)})", ""]
        for r in bad:
            where = f" in {r.failed_phase}" if r.failed_phase else ""
            out.append(f"- `{r.nodeid}`: **{r.outcome}{where}**")
            if r.message:
                out.append(f"  - {_cell(r.message)[:300]}")
            if r.bundle:
                out.append(f"  - failure bundle: `{r.bundle}`")
        out.append("")

    # -- flaky: each with its first attempt's failure and bundle
    if flaky:
        out += [f"## Flaky ({len(flaky)}): failed, then passed on retry", ""]
        for r in flaky:
            out.append(f"- `{r.nodeid}`: **flaky**")
            if r.message:
                out.append(f"  - {_cell(r.message)[:300]}")
            if r.bundle:
                out.append(f"  - first attempt's failure bundle: `{r.bundle}`")
        out.append("")

    # -- phases
    phased = [r for r in ran if r.phases]
    if phased:
        out += ["## Phase durations", "", "| test | result | phases (seconds) | total |",
                "|---|---|---|---:|"]
        for r in phased:
            cells = " · ".join(
                f"{p.number}: {p.duration_s:.1f}" + ("" if p.outcome == "passed" else
                                                      f" **{p.outcome}**")
                for p in r.phases)
            total = sum(p.duration_s for p in r.phases)
            out.append(f"| `{_cell(_test_name(r.nodeid))}` | {r.outcome} | {cells} | "
                       f"{total:.1f} |")
        out.append("")
        timed = sorted(((p.duration_s, p, r) for r in phased for p in r.phases),
                       key=lambda t: t[0], reverse=True)[:slowest]
        out += [f"## Slowest phases (top {len(timed)})", "", "| seconds | phase | test |",
                "|---:|---|---|"]
        out += [f"| {d:.1f} | {p.number} {_cell(p.title)} ({p.outcome}) | "
                f"`{_cell(_test_name(r.nodeid))}` |" for d, p, r in timed]
        out.append("")

    # -- requirements
    if matrix is not None:
        t = matrix.totals()
        out += ["## Requirements", "",
                f"{len(matrix.rows)} requirements: "
                + ", ".join(f"{n} {s}" for s, n in t.items())
                + ". Full matrix: `traceability.md`.", ""]
        for status in (FAILED, UNCOVERED, NOT_RUN):
            rows = matrix.with_status(status)
            if rows:
                out.append(f"- {status}: " + ", ".join(r.requirement.id for r in rows))
        out.append("")
    return "\n".join(out)


def write_summary(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
