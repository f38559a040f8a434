"""The story of a test, told in phases.

    with phase(1, "Record initial state"):
        say(f"Initial monthly cost: ${cost:,.0f}")

prints the phase-by-phase story (visible with ``pytest -s``) with each phase's duration. A
failure inside a phase gets a note naming the phase, so the report says where it broke.
Timings are kept on the Narrative for reports. ``phase``/``say`` use the current narrative
(set per test by the plugin); outside a test a default one prints to stdout.
"""

from __future__ import annotations

import contextvars
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

RULE = "=" * 70


@dataclass
class PhaseRecord:
    number: int
    title: str
    duration_s: float = 0.0
    outcome: str = "running"  # passed | failed | running
    error: str = ""


@dataclass
class Narrative:
    out: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stdout,
                                                                  flush=True))
    phases: list[PhaseRecord] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)
        self.out(line)

    def banner(self, title: str) -> None:
        self.say(f"\n{RULE}\n{title}\n{RULE}")

    @property
    def current(self) -> PhaseRecord | None:
        return next((p for p in reversed(self.phases) if p.outcome == "running"), None)

    @property
    def failed_phase(self) -> PhaseRecord | None:
        return next((p for p in self.phases if p.outcome == "failed"), None)

    @contextmanager
    def phase(self, number: int, title: str) -> Iterator[PhaseRecord]:
        record = PhaseRecord(number, title)
        self.phases.append(record)
        self.say(f"\nPHASE {number}: {title}...")
        started = time.monotonic()
        try:
            yield record
        except BaseException as exc:
            record.duration_s = time.monotonic() - started
            record.outcome = "failed"
            record.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            self.say(f"  FAILED in PHASE {number} ({title}) after {record.duration_s:.1f}s")
            if not any(n.startswith("failed in PHASE") for n in getattr(exc, "__notes__", [])):
                exc.add_note(f"failed in PHASE {number}: {title}")
            raise
        record.duration_s = time.monotonic() - started
        record.outcome = "passed"
        self.say(f"  ({record.duration_s:.1f}s)")

    def summary(self) -> str:
        return "\n".join(f"PHASE {p.number} {p.title}: {p.outcome} in {p.duration_s:.1f}s"
                         for p in self.phases)


_current: contextvars.ContextVar[Narrative] = contextvars.ContextVar("narrative")


def current_narrative() -> Narrative:
    try:
        return _current.get()
    except LookupError:
        narrative = Narrative()
        _current.set(narrative)
        return narrative


def use_narrative(narrative: Narrative) -> contextvars.Token[Narrative]:
    return _current.set(narrative)


def reset_narrative(token: contextvars.Token[Narrative]) -> None:
    _current.reset(token)


def phase(number: int, title: str) -> AbstractContextManager[PhaseRecord]:
    return current_narrative().phase(number, title)


def say(line: str) -> None:
    current_narrative().say(f"  {line}")
