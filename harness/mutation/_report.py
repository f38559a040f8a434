"""mutation.md and mutation.json: kill rate overall and per component, controls, survivors
first with the lines they changed, then every other mutant with its killer and seconds."""

from __future__ import annotations

import json
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
        f"median {median:.0f}s per mutant, {run.seconds / 60:.1f} min in all"
        if median is not None else "no mutant evaluated",
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
            "changed_lines": [c.render() for c in r.mutant.changed],
        } for r in run.results],
    }


def _row(r: MutantResult) -> str:
    killer = f"`{r.killer}`" if r.killer else ""
    phase = r.phase or ""
    return (f"| {r.mutant.name} | {r.mutant.component} | {r.outcome.value} | {killer} | "
            f"{phase} | {r.seconds:.0f} |")


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
            if r.detail:
                out += [f"Detail: {r.detail}", ""]
            if r.tests:
                out += ["Tests run: " + ", ".join(f"`{t}`" for t in r.tests), ""]
            out += ["```diff", *(c.render() for c in r.mutant.changed), "```", ""]
    out += ["", "## Every mutant", "",
            "| mutant | component | outcome | killed by | phase | seconds |",
            "|---|---|---|---|---|---:|"]
    out += [_row(r) for r in sorted(run.results, key=lambda r: (_ORDER[r.outcome],
                                                                  r.mutant.name))]
    return "\n".join(out) + "\n"


def write_reports(run: MutationRun, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "mutation.md", folder / "mutation.json"
    md.write_text(to_markdown(run))
    js.write_text(json.dumps(to_json(run), indent=2) + "\n")
    return md, js
