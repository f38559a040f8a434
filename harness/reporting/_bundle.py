"""Failure bundles: one folder per failing test that a reader who was not there can follow.

    writer = BundleWriter(Path("artifacts"), run_id, secrets=[admin_token])
    bundle = writer.bundle("scenarios/test_x.py::test_y")    # artifacts/<run>/<safe name>/
    bundle.story(narrative)                  # story.md: phases, durations, the failed phase
    bundle.error(longrepr_text)              # error.txt
    bundle.attempt("logs", lambda: bundle.logs({"portal": "..."}))   # a failing piece is noted
    index = bundle.finish("FAILED in PHASE 8: Validating cost savings")   # README.md

Every file goes through ``harness.core.mask_text`` on the way to disk: tokens in URLs,
``Authorization`` and ``X-Admin-Token`` headers, JSON fields named like ``*token*``/
``password``/``secret``, and every exact secret handed to the writer or the bundle are
replaced by ``***``.
A piece that fails to gather (a store down, Docker gone) is recorded in ``bundle_errors.txt``
and never stops the other pieces.
"""

from __future__ import annotations

import hashlib
import json
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.core import (
    Narrative,
    PortConflictError,
    ServiceUnhealthyError,
    StackStartError,
    StackStatus,
    mask_data,
    mask_text,
)


def safe_name(node_id: str, max_len: int = 120) -> str:
    """A file name for a pytest node id: ``a/b.py::C::t[x-1]`` -> ``a.b.py__C__t[x-1]``."""
    name = node_id.replace("::", "__").replace("/", ".").replace("\\", ".")
    name = re.sub(r"[^A-Za-z0-9._\[\]-]+", "_", name).strip("._") or "test"
    if len(name) > max_len:
        digest = hashlib.sha1(node_id.encode()).hexdigest()[:8]
        name = f"{name[:max_len - 9]}-{digest}"
    return name


def _to_json(data: Any) -> str:
    def default(obj: Any) -> Any:
        for method in ("model_dump", "_asdict"):
            if hasattr(obj, method):
                return getattr(obj, method)()
        if hasattr(obj, "__dataclass_fields__"):
            return {f: getattr(obj, f) for f in obj.__dataclass_fields__}
        if isinstance(obj, datetime):
            return obj.isoformat()
        if isinstance(obj, bytes):
            return obj.decode(errors="replace")
        if isinstance(obj, set | frozenset):
            return sorted(obj, key=str)
        return str(obj)

    # Round-trip through default() first so mask_data sees plain dicts, not models.
    plain = json.loads(json.dumps(data, default=default))
    return json.dumps(mask_data(plain), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


@dataclass
class BundleFile:
    name: str  # relative to the bundle folder, '/'-separated
    description: str
    size: int


class Bundle:
    """One failing test's folder. Pieces are added one by one; ``finish`` writes the index."""

    def __init__(self, path: Path, node_id: str, *, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self.node_id = node_id
        self.files: list[BundleFile] = []
        self.problems: list[str] = []
        self._secrets: set[str] = set(secrets)
        self.path.mkdir(parents=True, exist_ok=True)

    def add_secret(self, value: str | None) -> None:
        """Mask this exact value in every file written from now on."""
        if value:
            self._secrets.add(value)

    # -- writing -----------------------------------------------------------------------------

    def text(self, name: str, text: str, description: str = "") -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(mask_text(text, self._secrets), encoding="utf-8")
        self._record(name, description, target)
        return target

    def json(self, name: str, data: Any, description: str = "") -> Path:
        return self.text(name, _to_json(data), description)

    def _record(self, name: str, description: str, target: Path) -> None:
        self.files = [f for f in self.files if f.name != name]
        self.files.append(BundleFile(name, description, target.stat().st_size))

    def attempt(self, piece: str, gather: Callable[[], object]) -> bool:
        """Run ``gather``; if it raises, note why in bundle_errors.txt and carry on."""
        try:
            gather()
            return True
        except Exception as exc:  # noqa: BLE001 - one missing piece must not hide the others
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            self.problems.append(f"{piece}: {detail}")
            self.text("bundle_errors.txt", "Pieces of this bundle that could not be gathered:\n"
                      + "\n".join(f"- {p}" for p in self.problems) + "\n",
                      "what could not be gathered, and why")
            return False

    # -- the usual pieces --------------------------------------------------------------------

    def story(self, narrative: Narrative | None) -> None:
        """story.md: each phase with outcome and duration, the failed phase, what was said."""
        if narrative is None:
            self.text("story.md", "# Story\n\nNo narrative: the test failed before its "
                      "narrative fixture started (a session fixture such as the stack failed), "
                      "or it keeps none.\n", "phases (none)")
            return
        failed = narrative.failed_phase
        out = ["# Story", ""]
        if failed is not None:
            out += [f"**FAILED in PHASE {failed.number}: {failed.title}**", "",
                    f"    {failed.error}", ""]
        elif narrative.current is not None:
            cur = narrative.current
            out += [f"**Stopped during PHASE {cur.number}: {cur.title}**", ""]
        elif narrative.phases:
            out += ["Every phase passed; the failure came after the last phase.", ""]
        else:
            out += ["The test used no phases.", ""]
        if narrative.phases:
            out += ["| phase | title | outcome | seconds |", "|---:|---|---|---:|"]
            out += [f"| {p.number} | {p.title} | {p.outcome} | {p.duration_s:.2f} |"
                    for p in narrative.phases]
            out.append("")
        if narrative.lines:
            out += ["## What the test said", "", "```", *narrative.lines, "```", ""]
        self.text("story.md", "\n".join(out), "phases with outcome and duration; failed phase")

    def error(self, text: str) -> None:
        self.text("error.txt", text.rstrip() + "\n", "the failure as pytest reported it")

    def logs(self, logs: Mapping[str, str], *, since: datetime | None = None,
             until: datetime | None = None) -> None:
        """logs/<service>.log for every service (an empty log says so)."""
        window = f" since {since.isoformat(timespec='seconds')}" if since else ""
        window += f" until {until.isoformat(timespec='seconds')}" if until else ""
        for service, text in sorted(logs.items()):
            body = text if text.strip() else f"(no log lines{window})\n"
            self.text(f"logs/{safe_name(service)}.log", body, f"log of '{service}'{window}")

    def status(self, status: StackStatus) -> None:
        """status.txt (compose ps with health + last healthcheck output) and status.json."""
        out = [f"stack '{status.project}': "
               + ("all services healthy" if status.all_ready else "NOT all healthy"), "",
               status.table(), ""]
        for s in status.services:
            extra = f", exit code {s.exit_code}" if s.state in ("exited", "dead") else ""
            waits = f", depends on {', '.join(s.depends_on)}" if s.depends_on else ""
            out.append(f"## {s.name}: {s.summary}{extra}{waits}")
            if s.last_health_output:
                out += ["last healthcheck output:",
                        *(f"    {line}" for line in s.last_health_output.splitlines()[-15:])]
            out.append("")
        self.text("status.txt", "\n".join(out), "compose ps: state, health, last healthcheck")
        self.json("status.json", status, "the same, as JSON")

    def startup_failure(self, exc: StackStartError | PortConflictError) -> str:
        """startup.md (+ logs/<service>.log from the log tails) for a failed ``up``."""
        if isinstance(exc, PortConflictError):
            out = ["# The stack did not start: host ports are taken", "",
                   "| port | wanted by service | held by |", "|---:|---|---|"]
            out += [f"| {c.port} | {c.service} | {c.holder} |" for c in exc.conflicts]
            out += ["", "## message", "", "```", str(exc), "```", ""]
            self.text("startup.md", "\n".join(out), "why the stack did not start: ports taken")
            return str(exc)
        out = ["# The stack did not start", "", f"project: `{exc.project}`", ""]
        services = exc.services if isinstance(exc, ServiceUnhealthyError) else []
        if services:
            out += ["| failing service | state | health | services waiting on it |",
                    "|---|---|---|---|"]
            out += [f"| {s.name} | {s.state} | {s.health or '-'} | "
                    f"{', '.join(s.waiting_on_it) or '-'} |" for s in services]
            out.append("")
            for s in services:
                out += [f"## {s.name}", ""]
                if s.last_health_output:
                    out += ["last healthcheck output:", "", "```",
                            *s.last_health_output.splitlines()[-20:], "```", ""]
                if s.log_tail:
                    out += ["log tail:", "", "```", *s.log_tail.splitlines(), "```", ""]
                    self.text(f"logs/{safe_name(s.name)}.log", s.log_tail + "\n",
                              f"log tail of '{s.name}' (from the startup diagnosis)")
        if exc.command:
            out += ["## compose command", "", f"    {exc.command}", ""]
        if exc.output:
            out += ["## compose output (tail)", "", "```",
                    *exc.output.rstrip().splitlines()[-40:], "```", ""]
        out += ["## message", "", "```", str(exc), "```", ""]
        self.text("startup.md", "\n".join(out),
                  "why the stack did not start: failing service, health output, log tail")
        return "\n".join(s.describe() for s in services) or str(exc).splitlines()[0]

    # -- the index ---------------------------------------------------------------------------

    def finish(self, headline: str, details: Iterable[str] = ()) -> str:
        """Write README.md (what failed, then every file with its size); return a short index."""
        files = sorted((f for f in self.files if f.name != "README.md"), key=_reading_order)
        lines = [f"# Failure bundle: `{self.node_id}`", "", f"**{headline}**", ""]
        lines += [*details, ""] if details else []
        lines += ["| file | bytes | what |", "|---|---:|---|"]
        lines += [f"| [{f.name}]({f.name}) | {f.size} | {f.description} |" for f in files]
        if self.problems:
            lines += ["", "Not gathered:", *(f"- {p}" for p in self.problems)]
        lines += ["", f"written {datetime.now(UTC).isoformat(timespec='seconds')}", ""]
        self.text("README.md", "\n".join(lines), "this index")
        width = max((len(f.name) for f in files), default=0)
        return "\n".join([f"{self.path}/", f"  {headline}",
                          *(f"  {f.name.ljust(width)}  {f.size:>8} B  {f.description}"
                            for f in files)])


# story first, then the error, then the rest by name (logs last: the longest read)
_FIRST = ("story.md", "startup.md", "error.txt", "context.json", "status.txt")


def _reading_order(f: BundleFile) -> tuple[int, str, bool]:
    if f.name in _FIRST:
        return (_FIRST.index(f.name), f.name, False)
    stem, _, ext = f.name.rpartition(".")
    # x.txt before x.json: the readable form first, then the full data
    return (len(_FIRST) + (1 if f.name.startswith("logs/") else 0), stem, ext == "json")


class BundleWriter:
    """Bundles of one run under ``<root>/<run_id>/``, one folder per test (unique names)."""

    def __init__(self, root: Path, run_id: str, *, secrets: Iterable[str] = ()) -> None:
        self.root = root
        self.run_id = run_id
        self.run_dir = root / run_id
        self.secrets = set(secrets)

    def bundle(self, node_id: str) -> Bundle:
        base = self.run_dir / safe_name(node_id)
        path, n = base, 1
        while path.exists():  # the same test failing twice (setup and call, reruns)
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        return Bundle(path, node_id, secrets=self.secrets)
