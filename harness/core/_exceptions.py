"""The harness's exception tree. Every error says what failed, where, and what to do.

    HarnessError
    ├── EngineUnavailableError     no Docker engine / compose plugin answers
    ├── ConfigError                bad settings (port offset, compose file, ...)
    ├── PortConflictError          a host port the stack needs is already taken
    ├── StackStartError            `up` failed (compose error, or a service never got healthy)
    │   └── ServiceUnhealthyError  one or more services unhealthy / exited / past the deadline
    ├── StackCommandError          another compose command failed (down, logs, ps)
    ├── WaitTimeoutError           wait_for() ran out of time (also an AssertionError)
    │
    │   in harness.domain (they know the portal):
    ├── ApiError                   a portal call failed (method, url, status, body, request)
    │   ├── ApiUnreachableError    no answer (connect/read error) or 502/503/504: transient,
    │   │                          the one thing waits retry
    │   └── ApiStatusError         any other unexpected status (401, 404, 409, 422, 500...):
    │                              fails a wait at once
    ├── EventStreamError           the WebSocket event stream could not open, or ended
    └── OptimizationFailedError    an optimization ended rolled_back/failed (also an
                                   AssertionError)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # _wait imports this module
    from ._wait import WaitReport


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""


class EngineUnavailableError(HarnessError):
    pass


class ConfigError(HarnessError):
    pass


@dataclass
class PortClaim:
    """One host port the stack needs, and who holds it when it is taken."""

    port: int
    service: str
    holder: str = "unknown process"
    host: str = "127.0.0.1"  # where the engine publishes it (a remote engine's host)


class PortConflictError(HarnessError):
    def __init__(self, conflicts: Sequence[PortClaim]) -> None:
        self.conflicts = list(conflicts)
        lines = [f"  {c.host}:{c.port} (wanted by service '{c.service}') is held by {c.holder}"
                 for c in self.conflicts]
        super().__init__(
            "host ports the stack needs are already in use:\n" + "\n".join(lines)
            + "\nhint: stop what holds them, or shift every port with E2E_PORT_OFFSET=<n> "
            "(ports are default + offset; the default offset is 1)."
        )


class StackStartError(HarnessError):
    def __init__(self, message: str, *, project: str, command: str = "",
                 output: str = "") -> None:
        self.project = project
        self.command = command
        self.output = output
        detail = f"\ncommand: {command}" if command else ""
        detail += f"\noutput (tail):\n{_tail(output, 30)}" if output else ""
        super().__init__(f"stack '{project}' failed to start: {message}{detail}")


@dataclass
class UnhealthyService:
    """Diagnosis of one service that did not become healthy."""

    name: str
    state: str
    health: str | None
    last_health_output: str = ""
    log_tail: str = ""
    waiting_on_it: list[str] = field(default_factory=list)

    def describe(self) -> str:
        out = [f"- service '{self.name}': state={self.state} health={self.health or 'n/a'}"]
        if self.waiting_on_it:
            out.append(f"  services waiting on it: {', '.join(self.waiting_on_it)}")
        if self.last_health_output:
            out.append("  last healthcheck output:\n" + _indent(_tail(self.last_health_output, 10)))
        if self.log_tail:
            out.append("  log tail:\n" + _indent(self.log_tail))
        return "\n".join(out)


class ServiceUnhealthyError(StackStartError):
    def __init__(self, reason: str, *, project: str, services: Sequence[UnhealthyService],
                 elapsed_s: float, command: str = "", output: str = "") -> None:
        self.services = list(services)
        self.elapsed_s = elapsed_s
        names = ", ".join(s.name for s in self.services)
        body = "\n".join(s.describe() for s in self.services)
        super().__init__(
            f"{reason} after {elapsed_s:.1f}s: {names}\n{body}\n"
            f"hint: `python -m harness logs <service>` shows a full log; "
            f"`--keep-on-failure` keeps the containers for a look.",
            project=project, command=command, output=output,
        )


class StackCommandError(HarnessError):
    def __init__(self, message: str, *, command: str = "", output: str = "") -> None:
        self.command = command
        self.output = output
        extra = f"\ncommand: {command}" if command else ""
        extra += f"\noutput (tail):\n{_tail(output, 20)}" if output else ""
        super().__init__(message + extra)


class WaitTimeoutError(HarnessError, AssertionError):
    """wait_for() gave up. Carries the whole story of the wait (see _wait.WaitReport)."""

    def __init__(self, message: str, report: WaitReport) -> None:
        self.report = report
        super().__init__(message)


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
