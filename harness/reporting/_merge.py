"""A run's machine-readable record, its history outputs, and the merge of several runs.

Every run writes ``records.json`` (each test's record, the run's duration and exit status)
beside ``summary.md``; ``merge-reports`` reads those of the nightly shards and writes one run
from them: summary, traceability, JUnit, platform coverage, history and charts, as if one
machine had run the whole suite. ``.test_durations`` (pytest-split's file) is refreshed from
the same records (``make durations``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.core import ConfigError

from ._charts import write_report_html
from ._history import (
    HISTORY_FILE,
    history_records,
    render_history_section,
    update_history,
)
from ._runs import prune_runs, publish_latest, run_id, utc_stamp
from ._sessions import RunSoFar, combine_sessions, combined_status
from ._shards import load_durations
from ._summary import render_summary, write_summary
from ._traceability import NOT_RUN, Catalogue, build_matrix, record_from_dict, write_matrix

RECORDS_FILE = "records.json"
REPORT_FILE = "report.html"
DURATIONS_FILE = ".test_durations"


def write_records(run_dir: Path, rid: str, run: RunSoFar) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / RECORDS_FILE
    path.write_text(json.dumps({
        "run_id": rid, "duration_s": round(run.duration_s, 3), "exit_status": run.exit_status,
        "records": [asdict(r) for r in sorted(run.records, key=lambda r: r.nodeid)]},
        indent=1) + "\n", encoding="utf-8")
    return path


def load_records(path: Path) -> tuple[str, RunSoFar]:
    """A run back from its ``records.json``; a ConfigError says what is wrong with it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return str(data["run_id"]), RunSoFar(
            [record_from_dict(r) for r in data["records"]], float(data["duration_s"]),
            int(data["exit_status"]))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a run's {RECORDS_FILE} ({exc!r}); it is written "
                          f"by every pytest run of the harness") from exc


def write_history_outputs(root: Path, run_dir: Path, rid: str, run: RunSoFar,
                          keep_runs: int) -> tuple[list[Path], str]:
    """``records.json`` and ``report.html`` in the run folder, the run's lines in
    ``root/history.jsonl``; returns those files and the summary's history section."""
    records = write_records(run_dir, rid, run)
    runs = update_history(root / HISTORY_FILE, history_records(rid, run.records), keep_runs)
    report = write_report_html(run_dir / REPORT_FILE, runs)
    return [records, report], render_history_section(runs)


# -- merge ------------------------------------------------------------------------------------

@dataclass
class Shard:
    """One shard's run, found in the folder it left (its artifacts)."""

    folder: Path
    records_file: Path | None  # None: the shard left no records (its stack did not start?)
    run_id: str
    run: RunSoFar

    @property
    def tests_run(self) -> int:
        return sum(1 for r in self.run.records if r.outcome != NOT_RUN)


@dataclass
class MergeResult:
    run_id: str
    run_dir: Path
    shards: list[Shard]
    run: RunSoFar
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_records(folder: Path) -> Path:
    """The ``records.json`` a shard's folder holds: its own, ``latest/``'s, or the newest
    run folder's."""
    for candidate in (folder / RECORDS_FILE, folder / "latest" / RECORDS_FILE):
        if candidate.is_file():
            return candidate
    found = sorted(folder.glob(f"**/{RECORDS_FILE}"), key=lambda p: p.parent.name)
    if not found:
        raise ConfigError(f"{folder}: no {RECORDS_FILE} in it or below; point merge-reports "
                          f"at the artifacts folder a shard's test run wrote")
    return found[-1]


SHARD_BROKEN = 3  # the exit status of a shard that left no records: it fails the run


def load_shard(folder: Path) -> Shard:
    """A shard's run; one that left no records (its stack never started, its runner died)
    still counts: as a failed shard, so the merged run cannot pass without it."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder (merge-reports wants the shards' "
                          f"artifacts folders)")
    try:
        path = find_records(folder)
    except ConfigError:
        return Shard(folder, None, "(no records)", RunSoFar([], 0.0, SHARD_BROKEN))
    rid, run = load_records(path)
    return Shard(folder, path, rid, run)


def merge_runs(shards: Sequence[Shard]) -> RunSoFar:
    """Every shard's tests in one run: a test counts with the outcome of the shard that ran
    it (it is 'not run' in the others); the shards ran side by side, so the run took as long
    as the slowest; any shard's failure fails the run."""
    records = combine_sessions([], [])
    status = 5
    for s in shards:
        records = combine_sessions(records, s.run.records)
        status = s.run.exit_status if status == 5 else combined_status(status, s.run.exit_status)
    return RunSoFar(records, max((s.run.duration_s for s in shards), default=0.0), status)


def merge_junit(files: Sequence[Path], out: Path) -> Path | None:
    """One ``<testsuites>`` holding every shard's ``<testsuite>`` elements, totals summed."""
    suites: list[ET.Element] = []
    for f in files:
        root = ET.parse(f).getroot()
        found = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        for suite in found:
            suite.set("name", f"{suite.get('name', 'pytest')} ({f.parent.name}/{f.name})")
            suites.append(suite)
    if not suites:
        return None
    top = ET.Element("testsuites", name="merged")
    for attr in ("tests", "failures", "errors", "skipped"):
        top.set(attr, str(sum(int(s.get(attr, "0")) for s in suites)))
    top.set("time", f"{sum(float(s.get('time', '0')) for s in suites):.3f}")
    top.extend(suites)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(top).write(out, encoding="utf-8", xml_declaration=True)
    return out


def merge_coverage(folders: Sequence[Path], out: Path, script: Path) -> str:
    """Copy every shard's platform coverage data into ``out`` and report it with
    ``scripts/platform_coverage.py``; returns a line for the summary."""
    parts = [p for f in folders for p in sorted(f.glob("**/.coverage.*")) if p.is_file()]
    if not parts:
        return "no platform coverage data in the shards (they ran without the coverage stack)"
    out.mkdir(parents=True, exist_ok=True)
    for i, p in enumerate(parts):
        shutil.copyfile(p, out / f"{p.name}.m{i}")
    if not script.is_file():
        return f"{len(parts)} coverage data files copied to {out} ({script} not found)"
    done = subprocess.run([sys.executable, str(script), str(out)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        return f"coverage report failed (exit {done.returncode}): {done.stderr.strip()[:300]}"
    return f"platform coverage of all shards: `{out / 'report.md'}`"


def shard_table(shards: Sequence[Shard]) -> str:
    """The shards' balance: how long each took and how far apart they ended."""
    if not shards:
        return ""
    secs = [s.run.duration_s for s in shards]
    spread = (max(secs) - min(secs)) / max(secs) if max(secs) > 0 else 0.0
    out = [f"## Shards ({len(shards)})", "",
           f"Slowest {max(secs):.1f}s, fastest {min(secs):.1f}s: the shards ended "
           f"{spread:.0%} apart (target: within 20%).", "",
           "| shard | run | tests run | seconds | exit |", "|---|---|---:|---:|---:|"]
    out += [f"| `{s.folder.name}` | `{s.run_id}` | {s.tests_run} | {s.run.duration_s:.1f} | "
            f"{s.run.exit_status} |" for s in shards]
    return "\n".join(out) + "\n"


def merge_reports(folders: Sequence[Path], *, root: Path, catalogue: Catalogue,
                  keep_runs: int, rid: str | None = None,
                  coverage_script: Path | None = None) -> MergeResult:
    """One run's reports from the shards' folders, in ``root/<run id>/`` and ``latest/``."""
    if not folders:
        raise ConfigError("merge-reports needs at least one shard folder")
    shards = [load_shard(f) for f in folders]
    run = merge_runs(shards)
    rid = rid or run_id(utc_stamp(), "merged")
    run_dir = root / rid
    result = MergeResult(rid, run_dir, shards, run)
    result.notes += [f"**shard `{s.folder}` left no {RECORDS_FILE}**: it ran no test (did its "
                     f"stack start? its folder and log say why); the run fails"
                     for s in shards if s.records_file is None]
    matrix = build_matrix(catalogue, run.records)
    md, js = write_matrix(matrix, run_dir, rid)
    extras, history_md = write_history_outputs(root, run_dir, rid, run, keep_runs)
    junit = merge_junit(sorted(p for f in folders for p in f.glob("**/junit*.xml")),
                        run_dir / "junit.xml")
    if coverage_script is not None:
        result.notes.append(merge_coverage(folders, run_dir / "coverage", coverage_script))
    text = render_summary(rid, run.records, matrix, duration_s=run.duration_s,
                          exit_status=run.exit_status)
    text += "\n" + shard_table(shards)
    if result.notes:
        text += "\n" + "\n".join(f"- {n}" for n in result.notes) + "\n"
    text += "\n" + history_md
    summary = write_summary(run_dir / "summary.md", text)
    result.written = [summary, md, js, *extras, *([junit] if junit else [])]
    publish_latest(root / "latest", result.written, rid)
    prune_runs(root, keep_runs, current=rid)
    return result


# -- durations (pytest-split) -----------------------------------------------------------------

def update_durations(path: Path, records_file: Path, prefix: str = "scenarios/"
                     ) -> tuple[int, int]:
    """Refresh pytest-split's durations file from a run's records: every test under
    ``prefix`` that ran gets its measured seconds (setup + call + teardown); tests the run
    did not reach keep theirs. Returns (updated, total in the file)."""
    _, run = load_records(records_file)
    durations = load_durations(path)  # the file the shards plan from, read the same way
    updated = 0
    for r in run.records:
        if r.nodeid.startswith(prefix) and r.outcome in ("passed", "failed", "error", "flaky"):
            durations[r.nodeid] = round(r.duration_s, 3)
            updated += 1
    path.write_text(json.dumps(dict(sorted(durations.items())), indent=4) + "\n",
                    encoding="utf-8")
    return updated, len(durations)
