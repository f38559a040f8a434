"""``python -m harness validate-rc RC`` (``make validate-rc RC=...``): the whole e2e suite
against a release candidate, then ``artifacts/<run>/verdict.md`` and ``verdict.json``.

RC is a tag (the images target: ``<E2E_IMAGE_REPO or optiinfra-e2e>/platform:<tag>``), the
path of a ``docker save`` archive (images target, loaded first), a ``*.toml`` target file
(url target: no Docker call), or ``source`` (this checkout, built). The suite runs as
``make test-e2e`` does: the ``serial`` scenarios alone, then the rest under xdist (the
security lane included), each test retried once when pytest-rerunfailures is installed (a
pass on retry is FLAKY); ``--pytest-args "-k spot"`` narrows both.
``python -m harness verdict RUN_DIR`` recomputes a verdict, e.g. after editing waivers.toml.
Exit code 0 only on GO.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from harness.core import HarnessError, Stack, owner_label
from harness.domain import REPO_ROOT, stack_config
from harness.targets import (
    ARCHIVE_ENV,
    TAG_ENV,
    TARGET_ENV,
    TARGET_FILE_ENV,
    MissingImageError,
    Target,
    resolve_target,
)

from ._verdict import VERDICT_JSON, VERDICT_MD, Verdict, render_markdown, verdict_for_run
from ._waivers import load_waivers

DEFAULT_WAIVERS = REPO_ROOT / "waivers.toml"


def _say(msg: str) -> None:
    print(f"[validate-rc] {msg}", file=sys.stderr, flush=True)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rc", help="a tag, a `docker save` archive, a *.toml target file, or source")
    p.add_argument("--waivers", type=Path, default=DEFAULT_WAIVERS,
                   help="waivers file (default waivers.toml; absent = no waivers)")
    p.add_argument("--workers", type=int, default=int(os.environ.get("E2E_WORKERS", "4")),
                   help="xdist workers for the parallel part (default E2E_WORKERS or 4)")
    p.add_argument("--reruns", type=int, default=1,
                   help="retries of a failing test (FLAKY when a retry passes; default 1)")
    p.add_argument("--keep-stack", action="store_true",
                   help="leave a stack started here running afterwards")
    p.add_argument("--pytest-args", default="",
                   help="passed to both pytest sessions, one string (e.g. \"-k spot\")")


def add_verdict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, help="artifacts/<run> of a finished run")
    p.add_argument("--waivers", type=Path, default=DEFAULT_WAIVERS)


def target_env(rc: str) -> dict[str, str]:
    """The E2E_* variables that select the target RC names."""
    if rc == "source":
        return {TARGET_ENV: "source"}
    if rc.endswith(".toml"):
        return {TARGET_ENV: "url", TARGET_FILE_ENV: rc}
    if os.sep in rc or rc.endswith((".tar", ".tar.gz", ".tgz")) or Path(rc).is_file():
        return {TARGET_ENV: "images", ARCHIVE_ENV: rc}
    return {TARGET_ENV: "images", TAG_ENV: rc}


def run_verdict(args: argparse.Namespace) -> int:
    v = verdict_for_run(args.run_dir, load_waivers(args.waivers), date.today())
    return _report(v, args.run_dir)


def _report(v: Verdict, run_dir: Path) -> int:
    print(f"\nVERDICT: {v.word}  ({run_dir / VERDICT_MD})")
    for reason in v.reasons:
        print(f"  - {reason}")
    return 0 if v.go else 1


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    os.environ.update(target_env(args.rc))
    run_id = os.environ.setdefault(
        "E2E_RUN_ID", f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-rc-{os.getpid()}")
    run_dir = Path(os.environ.get("E2E_ARTIFACTS_DIR", "artifacts")) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    waivers = load_waivers(args.waivers)  # a bad waivers file stops us before anything runs
    target = resolve_target(None)
    _say(f"target: {target.label}; run folder {run_dir}")
    stack: Stack | None = None
    sessions: list[dict[str, Any]] = []
    try:
        if target.uses_docker:
            try:
                stack = _start(target, args)
            except HarnessError as exc:  # a missing image, a stack that did not start
                print(f"error: {exc}", file=sys.stderr)
                target.record(run_dir / "target.json")
                v = verdict_for_run(run_dir, waivers, date.today(), sessions=[])
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                v.reasons.insert(0, f"{type(exc).__name__}: {first}"
                                 + (" " + " ".join(str(exc).splitlines()[1:3])
                                    if isinstance(exc, MissingImageError) else ""))
                _rewrite(v, run_dir)
                return _report(v, run_dir)
        target.record(run_dir / "target.json")
        sessions = _run_suite(args)
    finally:
        if stack is not None and not args.keep_stack:
            stack.down()
    v = verdict_for_run(run_dir, waivers, date.today(), sessions=sessions)
    _say(f"done in {time.monotonic() - started:.0f} s")
    return _report(v, run_dir)


def _rewrite(v: Verdict, run_dir: Path) -> None:
    v.go = False
    (run_dir / VERDICT_JSON).write_text(json.dumps(v.to_json(), indent=2) + "\n")
    (run_dir / VERDICT_MD).write_text(render_markdown(v, run_dir))


def _start(target: Target, args: argparse.Namespace) -> Stack | None:
    """Check the images and start the stack (None: one was running already and is reused)."""
    base = stack_config()
    config = stack_config(None, **target.stack_overrides(base.state_dir, base.project_name))
    stack = Stack(config)
    stack.check_engine()
    target.prepare(stack._docker, lambda m: print(m, file=sys.stderr, flush=True))
    if stack.is_running():
        _say(f"reusing the running stack '{stack.project}' (left running)")
        return None
    _say(f"starting stack '{stack.project}' (port offset {config.port_offset})...")
    stack.up(owner=owner_label(os.getpid()))
    return stack


def _run_suite(args: argparse.Namespace) -> list[dict[str, Any]]:
    extra = shlex.split(args.pytest_args)
    retry = (["--reruns", str(args.reruns)]
             if args.reruns and importlib.util.find_spec("pytest_rerunfailures") else [])
    base = [sys.executable, "-m", "pytest", "scenarios", "--no-build", "--keep-stack", *retry]
    parts = [("serial", ["-m", "serial", "-p", "no:xdist"]),
             ("parallel", ["-m", "not serial", "-n", str(args.workers)])]
    sessions = []
    for i, (name, opts) in enumerate(parts, start=1):
        _say(f"suite part {i}/{len(parts)}: {name} ({' '.join(opts)})...")
        t0 = time.monotonic()
        code = subprocess.call([*base, *opts, *extra])
        sessions.append({"name": name, "exit_code": code, "seconds": time.monotonic() - t0})
        _say(f"suite part {name}: exit code {code} in {time.monotonic() - t0:.0f} s")
    return sessions


__all__ = ["add_arguments", "add_verdict_arguments", "run", "run_verdict",
           "target_env"]
