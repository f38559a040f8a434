"""`python -m harness mutate [PATCH...]`: evaluate the catalogue against the running stack."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.core import Stack, interrupts_raise
from harness.domain import REPO_ROOT, Endpoints, stack_config
from harness.reporting import ARTIFACTS_ENV

from ._catalogue import load_catalogue
from ._coverage_map import CoverageMap
from ._engine import MutationEngine, MutationRun
from ._exceptions import CatalogueError, MutationSetupError
from ._history import HISTORY_FILE, KillHistory
from ._live import RESETS, DockerPlatform, GitWorkspace, PytestRunner
from ._report import verdict_lines, write_reports
from ._selection import SelectionMap, Selector

PLATFORM_IMAGE = "optiinfra-e2e/platform:local"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("patches", nargs="*", metavar="PATCH",
                   help="patch files or names in the catalogue (default: all of mutants/)")
    p.add_argument("--catalogue", type=Path, default=REPO_ROOT / "mutants",
                   help="folder of *.patch files (default mutants/)")
    p.add_argument("--test-map", type=Path, default=None,
                   help="hand-kept: which tests exercise which files, for files the recorded "
                   "map cannot speak for (default <catalogue>/test-map.toml)")
    p.add_argument("--coverage-map", type=Path, default=None,
                   help="recorded by `make test-all`: which tests ran which lines (default "
                   "<catalogue>/coverage-map.json; ignored when missing)")
    p.add_argument("--history", type=Path, default=None,
                   help="which test killed each patch before, run first and alone (default "
                   "<catalogue>/kill-history.json; `make mutation-history` refreshes it)")
    p.add_argument("--reset", choices=RESETS, default="data",
                   help="between mutants: data (default) empties the datastores in place and "
                   "restarts the services whose image changes; full drops them and restarts "
                   "every platform service (stricter, 20-50 s more per mutant); none keeps "
                   "the data")
    p.add_argument("--timeout", type=float, default=240.0,
                   help="seconds the selected tests of one mutant may take (default 240)")
    p.add_argument("--workers", type=int, default=2,
                   help="pytest-xdist workers for a mutant's tests (default 2; 1: none)")
    p.add_argument("--rev", default="HEAD",
                   help="git revision whose platform source is mutated (default HEAD)")
    p.add_argument("--fail-under", type=float, default=None, metavar="PCT",
                   help="exit 1 when the kill rate is below PCT percent")


def run(args: argparse.Namespace) -> int:
    mutants = load_catalogue(args.catalogue, args.patches or None)
    hand_map = SelectionMap.load(args.test_map or args.catalogue / "test-map.toml")
    history = KillHistory.load(args.history or args.catalogue / HISTORY_FILE)
    map_path = args.coverage_map or args.catalogue / "coverage-map.json"
    recorded = CoverageMap.load(map_path) if map_path.is_file() else None
    config = stack_config(None)
    stack = Stack(config)
    stack.check_engine()
    if not stack.status().all_ready:
        raise MutationSetupError(
            f"stack '{config.project_name}' is not up and healthy: mutation testing reuses a "
            "running stack. Start it with `make start-test-env` (same E2E_PROJECT and "
            "E2E_PORT_OFFSET) and run again")
    run_dir = _artifacts_root() / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-mutation-{os.getpid()}"
    workspace = GitWorkspace(REPO_ROOT, args.rev)
    # Each mutant's pytest logs go to a scratch folder first: a run folder is pruned by any
    # session's E2E_KEEP_RUNS while it is old, and a long mutation run gets old.
    logs = Path(tempfile.mkdtemp(prefix="optiinfra-mutation-logs-"))
    platform: DockerPlatform | None = None
    try:
        dirty = workspace.uncommitted_platform_changes()
        if dirty:
            print(f"[mutation] note: uncommitted changes in {', '.join(dirty[:5])} are not "
                  f"part of the mutants' source ({args.rev} = {workspace.commit} is)")
        platform = DockerPlatform(config, Endpoints.from_config(config),
                                  platform_image=PLATFORM_IMAGE,
                                  reset=args.reset)
        runner = PytestRunner(workers=args.workers, cwd=REPO_ROOT)
        selector = Selector(hand_map, recorded, read_source=workspace.read_source,
                            is_serial=runner.may_be_serial, read_test=_read_test,
                            history=history)
        print(f"[mutation] {len(mutants)} patch(es) from {args.catalogue}, platform source "
              f"{args.rev} ({workspace.commit}), stack '{config.project_name}', services: "
              f"{', '.join(platform.services)}")
        engine = MutationEngine(
            workspace, platform, runner, selector, logs,
            # per stack: two runs on two stacks must not share (or remove) each other's images
            image_repository=f"{PLATFORM_IMAGE.split(':')[0]}-{config.project_name}",
            test_timeout_s=args.timeout,
            out=lambda line: print(line, flush=True))
        t0 = time.monotonic()
        load_before = os.getloadavg()[1]
        source = f"git {args.rev} ({workspace.commit})"
        try:
            with interrupts_raise():
                result = engine.run(mutants, source=source)
        except KeyboardInterrupt:
            # what was evaluated before the interruption is still worth a report
            result = MutationRun(engine.results, time.monotonic() - t0, source, len(mutants))
            result.notes = _notes(load_before, args, recorded, history)
            _point_to(result, logs, run_dir / "mutants")
            md, _js = write_reports(result, run_dir)
            print("\n".join(f"[mutation] {line}" for line in verdict_lines(result)))
            print(f"[mutation] interrupted; partial report: {md}", file=sys.stderr)
            return 130
        result.notes = _notes(load_before, args, recorded, history)
        _point_to(result, logs, run_dir / "mutants")
        md, _js = write_reports(result, run_dir)
    finally:
        if logs.is_dir():
            shutil.copytree(logs, run_dir / "mutants", dirs_exist_ok=True)
            shutil.rmtree(logs, ignore_errors=True)
        workspace.cleanup()
        if platform is not None:
            platform.close()
    print("\n" + "\n".join(f"[mutation] {line}" for line in verdict_lines(result)))
    print(f"[mutation] report: {md} (and mutation.json), {time.monotonic() - t0:.0f}s")
    if result.killed_controls:
        return 1
    if args.fail_under is not None and (result.kill_rate or 0.0) * 100 < args.fail_under:
        print(f"[mutation] kill rate below --fail-under {args.fail_under:g}%", file=sys.stderr)
        return 1
    return 0


def _point_to(run: MutationRun, scratch: Path, final: Path) -> None:
    """Details name log files where they end up, not in the scratch folder."""
    for r in run.results:
        r.detail = r.detail.replace(str(scratch), str(final))


def _read_test(path: str) -> str | None:
    try:
        return (REPO_ROOT / path).read_text()
    except OSError:
        return None


def _relative(path: Path) -> Path:
    with contextlib.suppress(ValueError):  # a report names the repo's files, not this machine
        return path.resolve().relative_to(REPO_ROOT.resolve())
    return path


def _notes(load_before: float, args: argparse.Namespace, recorded: CoverageMap | None,
           history: KillHistory) -> list[str]:
    """What the seconds depend on: the machine's load and the run's settings."""
    test_map = _relative(Path(args.test_map or args.catalogue / "test-map.toml"))
    map_path = _relative(Path(args.coverage_map or args.catalogue / "coverage-map.json"))
    chosen = (f"tests chosen by the recorded {map_path} ({len(recorded.tests)} scenario "
              f"tests, recorded {recorded.recorded} from {recorded.source or 'the tree'}), "
              f"else by {test_map}" if recorded is not None else
              f"tests chosen by {test_map} (no recorded {map_path}: `make test-all` writes it)")
    chosen += (f"; {len(history.killers)} earlier killer(s) from the kill history run first, "
               "alone, where the patch is unchanged" if history.killers else
               "; no kill history (`make mutation-history` records one from a run)")
    return [f"{chosen}; {args.workers} xdist worker(s), {args.timeout:.0f} s deadline per "
            "mutant; " + {"full": "datastores reset and every platform service restarted "
                                  "per mutant (--reset full)",
                          "data": "datastores emptied in place per mutant, services restarted "
                                  "where their image changes",
                          "none": "data kept between mutants (--reset none)"}[args.reset],
            f"load average (5 min) {load_before:.1f} at the start, {os.getloadavg()[1]:.1f} "
            f"at the end, on {os.cpu_count()} CPU(s)"]


def add_history_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", nargs="?", type=Path, default=None,
                   help="a run's mutation.json (default: the newest artifacts/*-mutation-*)")
    p.add_argument("--catalogue", type=Path, default=REPO_ROOT / "mutants",
                   help="folder of *.patch files (default mutants/)")
    p.add_argument("--history", type=Path, default=None,
                   help="the file to refresh (default <catalogue>/kill-history.json)")


def run_history(args: argparse.Namespace) -> int:
    """Lay a run's killers over the kill history (commit it, like .test_durations)."""
    report = args.report or _newest_report()
    try:
        results = json.loads(report.read_text())["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CatalogueError(f"{report} is not a mutation.json with results ({exc}); name one "
                             "written by `make mutation`") from exc
    path = args.history or args.catalogue / HISTORY_FILE
    mutants = {m.name: m for m in load_catalogue(args.catalogue)}
    before = KillHistory.load(path)
    after = before.updated(results, mutants)
    after.write(path)
    print(f"[mutation] {_relative(path)}: {len(after.killers)} killer(s) for "
          f"{len(mutants)} patch(es) from {_relative(report)} (was {len(before.killers)}); "
          "commit it so the next run tries them first")
    return 0


def _artifacts_root() -> Path:
    """Where runs go: $E2E_ARTIFACTS_DIR, as for every other session, else artifacts/."""
    return Path(os.environ.get(ARTIFACTS_ENV) or REPO_ROOT / "artifacts")


def _newest_report() -> Path:
    root = _artifacts_root()
    runs = sorted(root.glob("*-mutation-*/mutation.json"))
    if not runs:
        raise CatalogueError(f"no mutation run in {root}: run `make mutation` first, or name "
                             "a mutation.json")
    return runs[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness mutate",
                                description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))
