"""GO or NO-GO for a release candidate, from one run's reports: ``records.json`` (every test's
outcome and bundle), ``traceability.json`` (every requirement's status), the target it ran
against (``target.json``) and the waivers.

NO-GO when: a test failed (failed, error, xpassed) and no live waiver covers it; a waiver has
expired; a pytest session ended for another reason than failures (collection error,
interruption); or no test passed at all. FLAKY tests (passed on a retry) are counted apart
and do not block; skipped tests and requirements are listed with their reasons.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ._waivers import Waiver

FAILING = ("failed", "error", "xpassed")
VERDICT_MD, VERDICT_JSON = "verdict.md", "verdict.json"


@dataclass
class Verdict:
    go: bool
    reasons: list[str]
    target: dict[str, Any]
    totals: dict[str, int]
    failures: list[dict[str, Any]]
    waived: list[dict[str, Any]]
    flaky: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    requirements: list[dict[str, Any]]
    waivers: list[dict[str, Any]]
    run_id: str = ""
    sessions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def word(self) -> str:
        return "GO" if self.go else "NO-GO"

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.word, "go": self.go, "run_id": self.run_id,
                "reasons": self.reasons, "target": self.target, "totals": self.totals,
                "sessions": self.sessions, "failures": self.failures, "waived": self.waived,
                "flaky": self.flaky, "skipped": self.skipped,
                "requirements": self.requirements, "waivers": self.waivers}


def decide(records: list[dict[str, Any]], requirements: list[dict[str, Any]],
           target: dict[str, Any], waivers: list[Waiver], today: date,
           sessions: list[dict[str, Any]] | None = None, run_id: str = "") -> Verdict:
    sessions = sessions or []
    reasons: list[str] = []
    used: Counter[int] = Counter()
    expired = [w for w in waivers if w.expired(today)]
    failures, waived, flaky, skipped = [], [], [], []
    for rec in sorted(records, key=lambda r: str(r.get("nodeid"))):
        nodeid, out = str(rec.get("nodeid")), str(rec.get("outcome"))
        entry = {"nodeid": nodeid, "outcome": out, "message": rec.get("message", ""),
                 "bundle": rec.get("bundle", ""), "requirements": rec.get("requirements", []),
                 "failed_phase": rec.get("failed_phase", "")}
        if out == "flaky":
            flaky.append(entry)
        elif out == "skipped":
            skipped.append(entry)
        if out not in FAILING:
            continue
        match = next((w for w in waivers if w.matches(nodeid)), None)
        if match is not None:
            used[id(match)] += 1
        if match is not None and not match.expired(today):
            waived.append({**entry, "waiver": match.to_json()})
            continue
        if match is not None:
            entry["waiver"] = match.to_json()
            entry["note"] = f"its waiver expired on {match.expires.isoformat()}"
        failures.append(entry)
    if failures:
        reasons.append(f"{len(failures)} failing test(s) without a live waiver")
    for w in expired:
        reasons.append(f"waiver for {w.test} (owner {w.owner}, line {w.line}) expired on "
                       f"{w.expires.isoformat()}: renew it with a reason or remove it")
    for s in sessions:
        if s.get("exit_code") not in (0, 1, 5):  # 1: test failures, 5: nothing selected
            reasons.append(f"pytest session '{s.get('name')}' ended with exit code "
                           f"{s.get('exit_code')} (not test failures: a usage or collection "
                           f"error, or an interruption)")
    counts = Counter(str(r.get("outcome")) for r in records)
    if counts["passed"] + counts["flaky"] == 0:
        reasons.append("no test passed: nothing was validated")
    waived_ids = {w["nodeid"] for w in waived}
    reqs = []
    for req in requirements:
        tests = req.get("tests", [])
        status = str(req.get("status"))
        ids = [t.get("nodeid") if isinstance(t, dict) else t for t in tests]
        if status == "failed" and ids and all(
                i in waived_ids or _outcome(records, i) not in FAILING for i in ids):
            status = "waived"
        reqs.append({"id": req.get("id"), "description": req.get("description", ""),
                     "status": status, "tests": ids})
    failed_reqs = [r["id"] for r in reqs if r["status"] == "failed"]
    if failed_reqs:
        reasons.append(f"requirement(s) failed: {', '.join(map(str, failed_reqs))}")
    all_waivers = [w.to_json() | {"matched": used[id(w)], "expired": w.expired(today)}
                   for w in waivers]
    totals = dict(sorted(counts.items())) | {"waived": len(waived)}
    return Verdict(go=not reasons, reasons=reasons, target=target, totals=totals,
                   failures=failures, waived=waived, flaky=flaky, skipped=skipped,
                   requirements=reqs, waivers=all_waivers, run_id=run_id, sessions=sessions)


def _outcome(records: list[dict[str, Any]], nodeid: object) -> str:
    return next((str(r.get("outcome")) for r in records if r.get("nodeid") == nodeid), "")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _bundle(path: str, base: Path | None) -> str:
    """A failure bundle as a link relative to verdict.md (its folder is the run's)."""
    if not path:
        return "-"
    rel = Path(path)
    if base is not None:
        with contextlib.suppress(ValueError):  # outside the run folder: the path as it is
            rel = Path(path).resolve().relative_to(base.resolve())
    return f"[`{path}`]({rel.as_posix()})"


def render_markdown(v: Verdict, base: Path | None = None) -> str:
    """verdict.md; ``base`` is its folder, so bundle links are relative to it."""
    t = v.target
    lines = [f"# Release-candidate verdict: **{v.word}**", "",
             f"- run: `{v.run_id}`", f"- target: {t.get('label', t.get('kind', '?'))}"]
    totals = ", ".join(f"{k} {n}" for k, n in v.totals.items())
    lines.append(f"- tests: {totals}")
    for s in v.sessions:
        lines.append(f"- session `{s.get('name')}`: exit code {s.get('exit_code')}, "
                     f"{s.get('seconds', 0):.0f} s")
    if v.reasons:
        lines += ["", "## Why NO-GO", ""] + [f"- {r}" for r in v.reasons]
    if t.get("images"):
        lines += ["", "## Images", "", "| image | services | id (sha256 of its config) | "
                  "registry digests |", "|---|---|---|---|"]
        for img in t["images"]:
            digests = ", ".join(img.get("repo_digests") or []) or img.get(
                "digest_text") or "no registry digest"
            lines.append(f"| `{img['image']}` | {', '.join(img['services'])} | `{img['id']}` | "
                         f"{digests} |")
        if t.get("archive"):
            lines += ["", f"Archive `{t['archive']}`: {t.get('archive_sha256') or '(not hashed)'}"
                      " (sha256 of the file)"]
    if t.get("file"):
        f = t["file"]
        lines += ["", "## Target file", "", f"- `{f['path']}`: portal {f['portal_url']}, "
                  f"orchestrator {f.get('orchestrator_url') or '(not given)'}, simulator "
                  f"{f.get('aws_url') or '(not given)'}, datastores "
                  f"{', '.join(f.get('datastores') or []) or '(none)'}, admin token from "
                  f"{f.get('admin_token_env') or '(not given)'}"]
    lines += ["", "## Failures", ""]
    if v.failures:
        lines += ["| test | outcome | message | bundle |", "|---|---|---|---|"]
        for f in v.failures:
            note = f" ({f['note']})" if f.get("note") else ""
            lines.append(f"| `{f['nodeid']}` | {f['outcome']}{note} | {_cell(f['message'])} | "
                         f"{_bundle(f['bundle'], base)} |")
    else:
        lines.append("none")
    if v.waived:
        lines += ["", "## Waived failures", "", "| test | owner | reason | expires | bundle |",
                  "|---|---|---|---|---|"]
        for f in v.waived:
            w = f["waiver"]
            lines.append(f"| `{f['nodeid']}` | {_cell(w['owner'])} | {_cell(w['reason'])} | "
                         f"{w['expires']} | {_bundle(f['bundle'], base)} |")
    if v.flaky:
        lines += ["", f"## Flaky ({len(v.flaky)}: passed on a retry; not blocking)", ""]
        lines += [f"- `{f['nodeid']}`: first attempt {_cell(f['message'])}" for f in v.flaky]
    bundles = {f["nodeid"]: f["bundle"] for f in v.failures}
    lines += ["", "## Requirements", "", "| requirement | status | tests | failing tests' "
              "bundles |", "|---|---|---|---|"]
    for r in v.requirements:
        failing = [_bundle(bundles[i], base) for i in r["tests"] if bundles.get(i)]
        lines.append(f"| {r['id']} {_cell(r['description'])} | {r['status']} | "
                     f"{len(r['tests'])} | {', '.join(failing) or '-'} |")
    if v.skipped:
        by_reason = Counter(_cell(s["message"]) for s in v.skipped)
        lines += ["", f"## Skipped ({len(v.skipped)})", ""]
        lines += [f"- {n} x {reason or '(no reason given)'}" for reason, n in
                  sorted(by_reason.items(), key=lambda kv: -kv[1])]
    lines += ["", "## Waivers (waivers.toml)", ""]
    if v.waivers:
        lines += ["| test | owner | reason | expires | matched |", "|---|---|---|---|---|"]
        for w in v.waivers:
            state = "EXPIRED" if w["expired"] else w["expires"]
            matched = w["matched"] or "nothing (remove it?)"
            lines.append(f"| `{w['test']}` | {_cell(w['owner'])} | {_cell(w['reason'])} | "
                         f"{state} | {matched} |")
    else:
        lines.append("none")
    return "\n".join(lines) + "\n"


def verdict_for_run(run_dir: Path, waivers: list[Waiver], today: date,
                    target: dict[str, Any] | None = None,
                    sessions: list[dict[str, Any]] | None = None) -> Verdict:
    """The verdict of the run in ``run_dir``; writes verdict.md and verdict.json there."""
    records_file = run_dir / "records.json"
    records: list[dict[str, Any]] = []
    run_id = run_dir.name
    if records_file.is_file():
        data = json.loads(records_file.read_text(encoding="utf-8"))
        records, run_id = list(data.get("records", [])), str(data.get("run_id", run_id))
    trace_file = run_dir / "traceability.json"
    requirements = (json.loads(trace_file.read_text(encoding="utf-8")).get("requirements", [])
                    if trace_file.is_file() else [])
    target_file = run_dir / "target.json"
    if target is None:
        target = (json.loads(target_file.read_text(encoding="utf-8"))
                  if target_file.is_file() else {"kind": "?", "label": "unknown"})
    v = decide(records, requirements, target, waivers, today, sessions, run_id)
    if not records_file.is_file():
        v.go = False
        v.reasons.append(f"no records.json in {run_dir}: the suite did not report")
    (run_dir / VERDICT_JSON).write_text(json.dumps(v.to_json(), indent=2) + "\n",
                                        encoding="utf-8")
    (run_dir / VERDICT_MD).write_text(render_markdown(v, run_dir), encoding="utf-8")
    return v
