"""`python -m harness up|down|status|logs [SERVICE]|sweep|leftovers`: the stack from a terminal
or make."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.core import HarnessError, PortConflictError, Stack, StackStartError
from harness.domain import DEFAULT_ADMIN_TOKEN, stack_config
from harness.mutation import _cli as mutation_cli
from harness.reporting import ARTIFACTS_ENV, BundleWriter, run_id, utc_stamp
from harness.reporting import _cli as reporting_cli
from harness.targets import Target, resolve_target
from harness.verdict import _cli as verdict_cli


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness", description=(
        "Lifecycle of the OptiInfra E2E stack (docker-compose.e2e.yml). Settings come from "
        "E2E_* variables: E2E_PORT_OFFSET, E2E_PROJECT, E2E_UP_TIMEOUT, E2E_BASE_IMAGE; "
        "E2E_TARGET=images with E2E_IMAGE_TAG or E2E_IMAGE_ARCHIVE runs given images, nothing "
        "built."))
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="build (cached), start, wait until every service is healthy")
    up.add_argument("--keep-on-failure", action="store_true",
                    help="leave containers of a failed start for inspection")
    up.add_argument("--no-build", action="store_true", help="use the images already built")
    up.add_argument("--timeout", type=float, default=None,
                    help="seconds to wait for all-healthy (default E2E_UP_TIMEOUT or 300)")
    sub.add_parser("down", help="remove the stack's containers, networks and volumes")
    sub.add_parser("status", help="table of services; exit 1 unless all are healthy")
    logs = sub.add_parser("logs", help="logs of one service, or of all")
    logs.add_argument("service", nargs="?")
    logs.add_argument("--since", help="e.g. 10m or 2026-01-01T10:00:00")
    logs.add_argument("--tail", type=int)
    sub.add_parser("sweep", help="remove stacks left behind by killed runs")
    mutation_cli.add_arguments(sub.add_parser(  # options: harness/mutation/_cli.py
        "mutate", help="evaluate the platform mutants (mutants/) on the running stack"))
    mutation_cli.add_history_arguments(sub.add_parser(
        "mutate-history", help="refresh mutants/kill-history.json from a mutation run"))
    reporting_cli.add_merge_arguments(sub.add_parser(  # options: harness/reporting/_cli.py
        "merge-reports", help="one run's reports (summary, JUnit, traceability, coverage, "
        "history, charts) from the nightly shards' artifacts folders"))
    reporting_cli.add_durations_arguments(sub.add_parser(
        "durations", help="refresh pytest-split's .test_durations from a run's records"))
    verdict_cli.add_arguments(sub.add_parser(  # options: harness/verdict/_cli.py
        "validate-rc", help="the e2e suite against a release candidate (tag, archive, target "
        "file or source), then artifacts/<run>/verdict.md: GO or NO-GO"))
    verdict_cli.add_verdict_arguments(sub.add_parser(
        "verdict", help="recompute a run's verdict (e.g. after editing waivers.toml)"))
    sub.add_parser("leftovers", help="exit 1 when containers, networks or volumes of harness "
                   "stacks are left behind (a stack left running on purpose does not count)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "mutate":
            return mutation_cli.run(args)
        if args.command == "mutate-history":
            return mutation_cli.run_history(args)
        if args.command == "merge-reports":
            return reporting_cli.run_merge(args)
        if args.command == "durations":
            return reporting_cli.run_durations(args)
        if args.command == "validate-rc":
            return verdict_cli.run(args)
        if args.command == "verdict":
            return verdict_cli.run_verdict(args)
        overrides: dict[str, object] = {}
        if args.command == "up":
            overrides = {"keep_on_failure": args.keep_on_failure, "build": not args.no_build}
        target = resolve_target(None)
        if target.kind == "url" and args.command in ("up", "down"):
            # a deployed environment: nothing to start or stop (so a script that brackets the
            # suite with up/down, e.g. a nightly shard, runs unchanged), and no Docker call
            print(f"[target] {target.label}: a deployed environment, nothing to "
                  f"{args.command} here (unset E2E_TARGET for the local stack)", file=sys.stderr)
            return 0
        base = stack_config()  # the images target: its compose override, build off
        stack = Stack(stack_config(None, **{**overrides, **target.stack_overrides(
            base.state_dir, base.project_name)}))
        if args.command == "up":
            _prepare(target, stack)
        return _run(stack, args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _prepare(target: Target, stack: Stack) -> None:
    """images: load the archive and check every image (a missing one is named) before up."""
    if target.kind != "images":
        return
    stack.check_engine()
    print(f"[target] {target.label}: nothing is built", file=sys.stderr)
    target.prepare(stack._docker, lambda m: print(m, file=sys.stderr, flush=True))


def _run(stack: Stack, args: argparse.Namespace) -> int:
    if args.command == "up":
        try:
            status = stack.up(timeout=args.timeout)
        except (StackStartError, PortConflictError) as exc:
            where = _startup_bundle(exc)
            print(f"startup diagnosis written to {where}/ (start with README.md)",
                  file=sys.stderr)
            raise
        print(status.table())
        return 0
    if args.command == "down":
        stack.check_engine()
        stack.down()
        return 0
    if args.command == "status":
        stack.check_engine()
        status = stack.status()
        print(status.table())
        if not status.any_created:
            print(f"stack '{stack.project}' is not running (make start-test-env starts it)",
                  file=sys.stderr)
        return 0 if status.all_ready else 1
    if args.command == "logs":
        stack.check_engine()
        sys.stdout.write(stack.logs(args.service, since=args.since, tail=args.tail))
        return 0
    if args.command == "sweep":
        stack.check_engine()
        swept = stack.sweep_orphans()
        print(f"swept {len(swept)} stack(s)" + (f": {', '.join(swept)}" if swept else ""))
        return 0
    if args.command == "leftovers":
        stack.check_engine()
        return _leftovers(stack)
    raise AssertionError(args.command)


def _leftovers(stack: Stack) -> int:
    left = stack.leftovers()
    if left:
        print("[leftovers] ERROR: harness resources left behind:", file=sys.stderr)
        for line in left:
            print(f"  {line}", file=sys.stderr)
        print("[leftovers] remove them with: make stop-test-env (or python -m harness sweep)",
              file=sys.stderr)
        return 1
    print(f"[leftovers] none: no container, network or volume labelled "
          f"{stack.config.labels.harness} is left (stacks left running on purpose aside)")
    return 0


def _startup_bundle(exc: StackStartError | PortConflictError) -> Path:
    """A failed `up` leaves the same startup.md a failed test session would, for CI to keep."""
    root = Path(os.environ.get(ARTIFACTS_ENV) or "artifacts")
    writer = BundleWriter(root, run_id(utc_stamp(), f"cli-up-{os.getpid()}"),
                          secrets=[os.environ.get("E2E_ADMIN_TOKEN", DEFAULT_ADMIN_TOKEN)])
    bundle = writer.bundle("python -m harness up")
    bundle.startup_failure(exc)
    bundle.finish(f"`python -m harness up` failed: {str(exc).splitlines()[0]}")
    return bundle.path


if __name__ == "__main__":
    sys.exit(main())
