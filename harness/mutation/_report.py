"""mutation.md and mutation.json: kill rate overall and per component, controls, survivors
first with the lines they changed, then every other mutant with its killer and seconds."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from ._engine import DETECTED, MutantResult, MutationRun, Outcome

_ORDER = {Outcome.SURVIVED: 0, Outcome.ERROR: 1, Outcome.DOES_NOT_APPLY: 2,
          Outcome.TIMED_OUT: 3, Outcome.KILLED: 4}


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.0%}"


def verdict_lines(run: MutationRun) -> list[str]:
    """The few lines `make mutation` prints at the end."""
    rate, median = run.kill_rate, run.median_seconds
    counted = [r for r in run.results if r.counted]
    detected = sum(r.outcome in DETECTED for r in counted)
    controls = run.controls
    lines = [
        f"kill rate {_pct(rate)} ({detected} of {len(counted)} mutants killed"
        + "".join(f", {sum(r.outcome == o for r in run.mutants)} {o.value}"
                  for o in (Outcome.TIMED_OUT, Outcome.DOES_NOT_APPLY, Outcome.ERROR)
                  if any(r.outcome == o for r in run.mutants)) + ")",
        f"controls: {len(run.killed_controls)} killed of {len(controls)}"
        + (" - the suite is flaky or over-fitted: "
           + ", ".join(r.mutant.name for r in run.killed_controls)
           if run.killed_controls else ""),
        f"median {median:.0f}s per mutant, {run.seconds / 60:.1f} min in all "
        f"({run.seconds:.0f}s)" if median is not None else "no mutant evaluated",
    ]
    if run.planned > len(run.results):
        lines.append(f"INTERRUPTED: {len(run.results)} of {run.planned} patches evaluated")
    return lines


def to_json(run: MutationRun) -> dict[str, Any]:
    return {
        "source": run.source, "seconds": round(run.seconds, 1),
        "planned": run.planned, "evaluated": len(run.results), "notes": run.notes,
        "kill_rate": run.kill_rate, "median_seconds_per_mutant": run.median_seconds,
        "controls_killed": [r.mutant.name for r in run.killed_controls],
        "by_component": {c: {"kill_rate": MutationRun.kill_rate_of(rs), "mutants": len(rs)}
                         for c, rs in run.by_component().items()},
        "results": [{
            "name": r.mutant.name, "kind": r.mutant.kind, "component": r.mutant.component,
            "customer_notices": r.mutant.notices, "outcome": r.outcome.value,
            "seconds": r.seconds, "timings": r.timings, "killer": r.killer, "phase": r.phase,
            "detail": r.detail, "tests": r.tests, "files": list(r.mutant.files),
            "selection": r.selection, "rerun": r.rerun, "why_it_may_survive": r.mutant.why_survive,
            "changed_lines": [c.render() for c in r.mutant.changed],
        } for r in run.results],
        "phase_medians": phase_medians(run),
    }


PHASES = ("build", "deploy: stop", "deploy: reset", "deploy: start", "deploy: healthy",
          "deploy: warm-up", "pytest start", "tests", "tests-rerun")


def phase_medians(run: MutationRun) -> dict[str, float]:
    """Median seconds of each phase over the mutants that went through it."""
    out = {}
    for name in PHASES:
        values = [r.timings[name] for r in run.results if name in r.timings]
        if values:
            out[name] = round(statistics.median(values), 1)
    return out


def _basis(r: MutantResult) -> str:
    kinds = {"recorded map" if ": recorded map" in b else "test-map.toml" for b in r.selection}
    return " + ".join(sorted(kinds))


def _row(r: MutantResult) -> str:
    killer = f"`{r.killer}`" + (" (re-run)" if r.rerun else "") if r.killer else ""
    phase = r.phase or ""
    t = r.timings
    cells = [f"{t[k]:.0f}" if k in t else "" for k in ("build", "deploy", "tests")]
    return (f"| {r.mutant.name} | {r.mutant.component} | {r.outcome.value} | {killer} | "
            f"{phase} | {r.seconds:.0f} | {len(r.tests)} | {_basis(r)} | " + " | ".join(cells)
            + " |")


def to_markdown(run: MutationRun) -> str:
    out = ["# Mutation testing of the platform", ""]
    if run.source:
        out += [f"Platform source: {run.source}.", ""]
    out += [f"Note: {n}" for n in run.notes] + ([""] if run.notes else [])
    out += [f"- {line}" for line in verdict_lines(run)]
    out += ["", "Kill rate = killed / (killed + survived). A timed out mutant (its tests did not "
            "finish by the deadline), one that does not apply, and a harness error are listed "
            "but not counted. Controls are behaviour-neutral and must survive.", "",
            "## Per component", "", "| component | mutants | kill rate |", "|---|---:|---:|"]
    for comp, rs in run.by_component().items():
        out.append(f"| {comp} | {len(rs)} | {_pct(MutationRun.kill_rate_of(rs))} |")
    medians = phase_medians(run)
    if medians:
        out += ["", "## Where a mutant's seconds go (median per phase)", "",
                "| " + " | ".join(medians) + " |", "|" + "---:|" * len(medians),
                "| " + " | ".join(f"{v:.1f}" for v in medians.values()) + " |", "",
                "`pytest start`: the pytest sessions' wall time outside the tests (start, "
                "collection, workers; with xdist the tests' seconds are divided by the "
                "workers); `tests` includes it. `deploy` is the sum of its parts."]
    if run.controls:
        out += ["", "## Controls (must survive)", "", "| control | outcome | killer |",
                "|---|---|---|"]
        for r in run.controls:
            flag = " **(flaky or over-fitted suite)**" if r.outcome in DETECTED else ""
            out.append(f"| {r.mutant.name} | {r.outcome.value}{flag} | {r.killer or ''} |")
    survivors = [r for r in run.mutants if r.outcome not in DETECTED]
    survivors.sort(key=lambda r: (_ORDER[r.outcome], r.mutant.name))
    if survivors:
        out += ["", "## Not detected (survivors first)", ""]
        for r in survivors:
            out += [f"### {r.mutant.name} ({r.mutant.component}): {r.outcome.value}", "",
                    f"A customer would notice: {r.mutant.notices}", ""]
            if r.mutant.why_survive:
                out += [f"Why it may survive: {r.mutant.why_survive}", ""]
            out += ["Lines it changes:", "", "```diff",
                    *(c.render() for c in r.mutant.changed), "```", ""]
            if r.detail:
                out += [f"Detail: {r.detail}", ""]
            if r.rerun:
                out += [f"Re-run: {r.rerun}", ""]
            out += [f"Selected by: {b}" for b in r.selection] + ([""] if r.selection else [])
            if r.tests:
                out += ["Tests run: " + ", ".join(f"`{t}`" for t in r.tests), ""]
    out += ["", "## Every mutant", "",
            "| mutant | component | outcome | killed by | phase | seconds | tests | selected by "
            "| build | deploy | tests s |",
            "|---|---|---|---|---|---:|---:|---|---:|---:|---:|"]
    out += [_row(r) for r in sorted(run.results, key=lambda r: (_ORDER[r.outcome],
                                                                  r.mutant.name))]
    decided = [r for r in run.results if r.rerun]
    if decided:
        out += ["", "## Decided by a re-run (the first failure was only \"no answer\")", ""]
        out += [f"- {r.mutant.name}: {r.rerun}" for r in decided]
    return "\n".join(out) + "\n"


def write_reports(run: MutationRun, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "mutation.md", folder / "mutation.json"
    md.write_text(to_markdown(run))
    js.write_text(json.dumps(to_json(run), indent=2) + "\n")
    return md, js
