"""``python -m harness merge-reports DIR...`` and ``python -m harness durations``: the
nightly job's reporting subcommands (wired into ``harness/cli.py``)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ._markers import CATALOGUE_FILE
from ._merge import DURATIONS_FILE, RECORDS_FILE, merge_reports, update_durations
from ._runs import ARTIFACTS_ENV, keep_runs
from ._traceability import Catalogue


def add_merge_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="+", type=Path, metavar="DIR",
                   help="each shard's artifacts folder (holding records.json, junit*.xml, "
                        "coverage data)")
    p.add_argument("--artifacts-dir", type=Path, default=None,
                   help=f"where the merged run goes (default ${ARTIFACTS_ENV} or 'artifacts'; "
                        "also latest/ and history.jsonl there)")
    p.add_argument("--run-id", default=None, help="the merged run's folder name "
                   "(default <UTC timestamp>-merged)")
    p.add_argument("--coverage-script", type=Path,
                   default=Path("scripts/platform_coverage.py"),
                   help="reports the combined platform coverage (default %(default)s)")


def add_durations_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="records", type=Path,
                   default=None, help=f"a run's {RECORDS_FILE} (default: latest/ of the "
                                      f"artifacts folder)")
    p.add_argument("--path", type=Path, default=Path(DURATIONS_FILE),
                   help="pytest-split's durations file (default %(default)s)")


def _root(arg: Path | None) -> Path:
    return arg or Path(os.environ.get(ARTIFACTS_ENV) or "artifacts")


def run_merge(args: argparse.Namespace) -> int:
    started = time.monotonic()
    print(f"[merge-reports] merging {len(args.folders)} shard folder(s)...", flush=True)
    result = merge_reports(args.folders, root=_root(args.artifacts_dir),
                           catalogue=Catalogue.load(Path(CATALOGUE_FILE)),
                           keep_runs=keep_runs(os.environ), rid=args.run_id,
                           coverage_script=args.coverage_script)
    for s in result.shards:
        print(f"  {s.folder}: run {s.run_id}, {s.tests_run} tests, {s.run.duration_s:.1f}s, "
              f"exit {s.run.exit_status}")
    for note in result.notes:
        print(f"  {note}")
    flaky = [r for r in result.run.records if r.outcome == "flaky"]
    for r in flaky:  # never silently green: GitHub shows these as warnings
        print(f"::warning title=FLAKY::{r.nodeid} passed only on retry: {r.message}")
    print(f"[merge-reports] {result.written[0]} (and {len(result.written) - 1} more, copied "
          f"to {result.run_dir.parent / 'latest'}) in {time.monotonic() - started:.1f}s")
    return 0 if result.run.exit_status in (0, 5) else 1


def run_durations(args: argparse.Namespace) -> int:
    records = args.records or _root(None) / "latest" / RECORDS_FILE
    updated, total = update_durations(args.path, records)
    print(f"[durations] {args.path}: {updated} test durations refreshed from {records} "
          f"({total} in the file); commit it so the nightly shards stay balanced")
    return 0
