"""The history of runs: ``artifacts/history.jsonl``, one JSON line per test per run.

Each run (a session, a run of several sessions, or a merged nightly) writes the records of
its tests: outcome, duration, flaky, phase timings. A run that writes again (the next session
of ``make test``, the same ``E2E_RUN_ID``) replaces its own lines. Only the newest runs are kept,
as many as run folders (``E2E_KEEP_RUNS``). ``summary.md`` gets a section over the last 20
runs (pass rate, flaky tests, the slowest scenarios' trend); ``_charts`` draws the same.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from ._traceability import NOT_RUN, TestRecord

HISTORY_FILE = "history.jsonl"
TREND_RUNS = 20  # the summary's and the charts' window
_PASSING = {"passed", "xfailed", "flaky"}
_FAILING = {"failed", "error", "xpassed"}
_SPARK = "▁▂▃▄▅▆▇█"


@dataclass
class HistoryRecord:
    run_id: str
    at: str  # when the run wrote it (UTC, ISO 8601)
    nodeid: str
    outcome: str
    duration_s: float
    flaky: bool = False
    phases: list[dict[str, Any]] = field(default_factory=list)  # number, title, outcome, s

    @property
    def scenario(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass
class RunHistory:
    """One run's records, in the order runs were written."""

    run_id: str
    at: str
    records: list[HistoryRecord]

    def counts(self) -> Counter[str]:
        return Counter(r.outcome for r in self.records)

    @property
    def ran(self) -> int:
        return sum(1 for r in self.records if r.outcome in _PASSING | _FAILING)

    @property
    def pass_rate(self) -> float | None:
        """Share of the tests that ran (not skipped) and passed, flaky included."""
        ran = self.ran
        return None if ran == 0 else sum(
            1 for r in self.records if r.outcome in _PASSING) / ran

    def scenario_seconds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.records:
            out[r.scenario] = out.get(r.scenario, 0.0) + r.duration_s
        return out


def history_records(run_id: str, records: Iterable[TestRecord], *, at: str | None = None
                    ) -> list[HistoryRecord]:
    """One history record per test that ran (a deselected test is no news)."""
    when = at or datetime.now(UTC).isoformat(timespec="seconds")
    return [HistoryRecord(run_id=run_id, at=when, nodeid=r.nodeid, outcome=r.outcome,
                          duration_s=round(r.duration_s, 3), flaky=r.outcome == "flaky",
                          phases=[asdict(p) for p in r.phases])
            for r in sorted(records, key=lambda r: r.nodeid) if r.outcome != NOT_RUN]


def load_history(path: Path) -> list[HistoryRecord]:
    """Every readable line of ``path`` (a line cut short by a killed run is skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(HistoryRecord(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return out


def group_runs(history: Iterable[HistoryRecord]) -> list[RunHistory]:
    """Runs in the order they were first written."""
    runs: dict[str, RunHistory] = {}
    for r in history:
        runs.setdefault(r.run_id, RunHistory(r.run_id, r.at, [])).records.append(r)
    return list(runs.values())


def update_history(path: Path, new: Sequence[HistoryRecord], keep_runs: int
                   ) -> list[RunHistory]:
    """Add a run's records to ``path`` (replacing that run's earlier lines), keep the newest
    ``keep_runs`` runs (0: all) and return the runs now in the file. Concurrent sessions
    writing into one artifacts folder take turns (a lock file beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(f".{path.name}.lock")), timeout=60):
        ids = {r.run_id for r in new}
        runs = group_runs([r for r in load_history(path) if r.run_id not in ids] + list(new))
        if keep_runs > 0:
            runs = runs[-keep_runs:]
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        with tmp.open("w", encoding="utf-8") as f:
            for run in runs:
                for r in run.records:
                    f.write(json.dumps(asdict(r), separators=(",", ":")) + "\n")
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    return runs


def sparkline(values: Sequence[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    return "".join(" " if v is None else _SPARK[min(7, int((v - lo) / span * 7.999))]
                   for v in values)


def slowest_scenarios(runs: Sequence[RunHistory], n: int = 5) -> list[str]:
    """The ``n`` scenarios (test files) with the longest run among ``runs`` (so a short
    newest run, e.g. a ``-k`` selection, does not hide the slow ones)."""
    longest: dict[str, float] = {}
    for run in runs:
        for scenario, secs in run.scenario_seconds().items():
            longest[scenario] = max(secs, longest.get(scenario, 0.0))
    return sorted(longest, key=lambda s: (-longest[s], s))[:n]


def flaky_tests(runs: Sequence[RunHistory]) -> list[tuple[str, int, int]]:
    """(nodeid, runs where it was flaky, runs where it ran), most often flaky first."""
    flaky: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    for run in runs:
        for r in run.records:
            ran[r.nodeid] += 1
            flaky[r.nodeid] += r.flaky
    return sorted(((n, k, ran[n]) for n, k in flaky.items() if k),
                  key=lambda t: (-t[1], t[0]))


def render_history_section(runs: Sequence[RunHistory], last: int = TREND_RUNS) -> str:
    """Markdown for ``summary.md``: pass rate per run, flaky tests, slowest scenarios' trend."""
    window = list(runs)[-last:]
    if not window:
        return ""
    out = [f"## History (last {len(window)} run{'s' if len(window) > 1 else ''}; "
           f"`{HISTORY_FILE}`, charts in `report.html`)", ""]
    rates = [r.pass_rate for r in window]
    out += [f"Pass rate, oldest to newest: `{sparkline(rates)}`", "",
            "| run | tests run | passed | flaky | failed | pass rate |",
            "|---|---:|---:|---:|---:|---:|"]
    for run in reversed(window[-10:]):
        c = run.counts()
        rate = "-" if run.pass_rate is None else f"{run.pass_rate:.0%}"
        out.append(f"| `{run.run_id}` | {run.ran} | {c['passed']} | {c['flaky']} | "
                   f"{sum(c[o] for o in _FAILING)} | {rate} |")
    if len(window) > 10:
        out.append(f"| ... {len(window) - 10} older | | | | | |")
    out.append("")
    flaky = flaky_tests(window)
    out += [f"### Flaky tests ({len(flaky)})", ""]
    out += [f"- `{n}`: flaky in {k} of {m} runs" for n, k, m in flaky[:20]] or ["none"]
    out.append("")
    slow = slowest_scenarios(window)
    if slow:
        out += ["### Slowest scenarios (seconds per run, oldest to newest)", "",
                "| scenario | trend | min | newest | max |", "|---|---|---:|---:|---:|"]
        for s in slow:
            secs = [run.scenario_seconds().get(s) for run in window]
            known = [v for v in secs if v is not None]
            out.append(f"| `{s}` | `{sparkline(secs)}` | {min(known):.1f} | "
                       f"{known[-1]:.1f} | {max(known):.1f} |")
        out.append("")
    return "\n".join(out)
