"""Where a run's reports go: its id and folder, how many runs to keep, ``latest/``.

A run id is ``<UTC timestamp>-<session id>``: run folders sort by time and say which session
wrote them. Several pytest sessions of one run (``make test``) share ``E2E_RUN_ID``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.core import ConfigError

from ._bundle import safe_name

STAMP_ENV = "E2E_ARTIFACTS_STAMP"  # fixed by the controller; xdist workers inherit it
ARTIFACTS_ENV = "E2E_ARTIFACTS_DIR"
NO_BUNDLE_ENV = "E2E_NO_BUNDLE"
RUN_ENV = "E2E_RUN_ID"  # several pytest sessions of one run share its folder and reports
SESSION_ENV = "E2E_SESSION_ID"
KEEP_RUNS_ENV = "E2E_KEEP_RUNS"
DEFAULT_KEEP_RUNS = 20  # nightly jobs on one machine must not fill its disk
_RUN_FOLDER = re.compile(r"\d{8}T\d{6}Z-.+")


def run_id(stamp: str, session_id: str) -> str:
    """``<UTC timestamp>-<session id>``: sorts by time, and says which session wrote it."""
    return f"{stamp}-{safe_name(session_id)}"


def utc_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def run_id_from_env(environ: Mapping[str, str]) -> str:
    """The run this process reports into: ``E2E_RUN_ID``, else stamp + session id."""
    return environ.get(RUN_ENV) or run_id(environ.get(STAMP_ENV) or utc_stamp(),
                                          environ.get(SESSION_ENV, "nosession"))


def keep_runs(environ: Mapping[str, str]) -> int:
    """``E2E_KEEP_RUNS`` (default 20; 0 keeps all); a bad value is a ConfigError."""
    raw = environ.get(KEEP_RUNS_ENV, "")
    try:
        return int(raw) if raw.strip() else DEFAULT_KEEP_RUNS
    except ValueError:
        raise ConfigError(f"{KEEP_RUNS_ENV}={raw!r} is not a whole number (how many runs' "
                          f"artifacts to keep; 0 keeps all)") from None


@dataclass(frozen=True)
class RunSettings:
    """What a pytest process needs to know to write its run's reports."""

    root: Path  # artifacts/
    bundles: bool  # write failure bundles
    keep_runs: int

    @classmethod
    def resolve(cls, *, artifacts_dir: str | None, no_bundle: bool, cwd: Path,
                environ: Mapping[str, str]) -> RunSettings:
        root = Path(artifacts_dir or environ.get(ARTIFACTS_ENV) or "artifacts")
        return cls(root=root if root.is_absolute() else cwd / root,
                   bundles=not (no_bundle or environ.get(NO_BUNDLE_ENV, "") not in ("", "0")),
                   keep_runs=keep_runs(environ))


def prune_runs(root: Path, keep: int, current: str | None = None) -> list[Path]:
    """Remove all but the newest ``keep`` run folders under ``root``; return those removed.

    Only folders named like a run id are touched (never ``latest`` or anything a user put
    there); ``current`` is always kept. ``keep <= 0`` keeps everything.
    """
    if keep <= 0 or not root.is_dir():
        return []
    runs = sorted((d for d in root.iterdir()
                   if d.is_dir() and _RUN_FOLDER.fullmatch(d.name) and d.name != current),
                  key=lambda d: d.name, reverse=True)
    removed = []
    for old in runs[max(0, keep - (1 if current else 0)):]:
        shutil.rmtree(old, ignore_errors=True)
        if not old.exists():
            removed.append(old)
    return removed


def publish_latest(latest: Path, files: list[Path], rid: str) -> None:
    """Copy the run's reports to ``latest/`` (each replaced atomically) with its RUN_ID."""
    latest.mkdir(parents=True, exist_ok=True)
    for f in files:
        tmp = latest / f".{f.name}.tmp{os.getpid()}"
        shutil.copyfile(f, tmp)
        os.replace(tmp, latest / f.name)  # atomic: a reader never sees half a file
    (latest / "RUN_ID").write_text(rid + "\n")
