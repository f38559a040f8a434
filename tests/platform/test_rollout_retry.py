"""The rollout driver's retry (tenacity): infrastructure errors resume it with a capped
backoff, cancellation is never retried, and giving up fails the optimization with the cause."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from optiinfra.orchestrator import rollout
from optiinfra.orchestrator.rollout import MAX_ATTEMPTS, Rollouts


class Driver:
    """A Rollouts whose driver fails ``failures`` times, then finishes; nothing real behind."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, failures: int,
                 error: BaseException | None = None) -> None:
        self.rollouts = Rollouts(None, None, None, None, None)  # type: ignore[arg-type]
        self.runs = 0
        self.sleeps: list[float] = []
        self.failed: list[tuple[str, str]] = []
        self.failures, self.error = failures, error or OSError("redis restarting")

        async def run(opt_id: str) -> None:
            self.runs += 1
            if self.runs <= self.failures:
                raise self.error

        async def finish_failed(opt_id: str, why: str) -> None:
            self.failed.append((opt_id, why))

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        monkeypatch.setattr(self.rollouts, "run", run)
        monkeypatch.setattr(self.rollouts, "_finish_failed", finish_failed)
        monkeypatch.setattr(rollout, "RETRY_SLEEP", sleep)

    def guarded(self) -> Any:
        return asyncio.run(self.rollouts._run_guarded("o1"))


def test_errors_resume_the_driver_with_a_capped_backoff(monkeypatch):
    d = Driver(monkeypatch, failures=6)
    d.guarded()
    assert d.runs == 7
    assert d.sleeps == [1, 2, 4, 8, 10, 10]
    assert d.failed == []


def test_giving_up_fails_the_optimization_with_the_last_error(monkeypatch):
    d = Driver(monkeypatch, failures=10_000, error=RuntimeError("agent gone"))
    d.guarded()
    assert d.runs == MAX_ATTEMPTS
    assert len(d.sleeps) == MAX_ATTEMPTS - 1  # no pointless sleep after the last attempt
    assert d.failed == [("o1", f"gave up after {MAX_ATTEMPTS} attempts: agent gone")]


def test_cancellation_is_not_retried(monkeypatch):
    d = Driver(monkeypatch, failures=1, error=asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        d.guarded()
    assert (d.runs, d.sleeps, d.failed) == (1, [], [])
