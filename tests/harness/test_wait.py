"""wait_for: the one way to wait. A fake clock and sleep: these tests never sleep."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from harness.core import HarnessError, WaitReport, WaitTimeoutError, wait_for

from .fakes import FakeClock, results


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def wait(condition: Callable[[], Any], clock: FakeClock, **kwargs: Any) -> Any:
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("interval", 1)
    return wait_for(condition, clock=clock, sleep=clock.sleep, **kwargs)


# -- met ---------------------------------------------------------------------------------------

def test_returns_the_first_truthy_value(clock):
    assert wait(results(None, 0, "", {"ready": True}), clock) == {"ready": True}
    assert clock.sleeps == [1, 1, 1]


def test_met_at_once_does_not_sleep(clock):
    assert wait(results(42), clock) == 42
    assert clock.sleeps == []


def test_until_decides_and_falsy_values_can_be_met(clock):
    value = wait(results(3, 2, 1, 0), clock, until=lambda n: n == 0)
    assert value == 0
    assert len(clock.sleeps) == 3


def test_until_rejects_truthy_values(clock):
    value = wait(results("starting", "starting", "healthy"), clock,
                 until=lambda s: s == "healthy")
    assert value == "healthy"
    assert len(clock.sleeps) == 2


def test_on_attempt_sees_the_report_after_each_unmet_attempt(clock):
    seen: list[tuple[int, Any]] = []
    wait(results(1, 2, 3), clock, until=lambda n: n == 3,
         on_attempt=lambda r: seen.append((r.attempts, r.last_value)))
    assert seen == [(1, 1), (2, 2)]


# -- exceptions --------------------------------------------------------------------------------

def test_transient_exceptions_are_retried(clock):
    condition = results(ConnectionRefusedError("refused"), TimeoutError("slow"), "up")
    assert wait(condition, clock, transient=(ConnectionError, TimeoutError)) == "up"
    assert len(clock.sleeps) == 2


def test_unlisted_exception_propagates_at_once(clock):
    calls = []

    def condition() -> None:
        calls.append(1)
        raise KeyError("not transient")

    with pytest.raises(KeyError, match="not transient"):
        wait(condition, clock, transient=(ConnectionError,))
    assert len(calls) == 1
    assert clock.sleeps == []


def test_no_exception_is_transient_by_default(clock):
    with pytest.raises(ConnectionError):
        wait(results(ConnectionError("down"), "up"), clock)
    assert clock.sleeps == []


# -- timeout -----------------------------------------------------------------------------------

def test_timeout_raises_wait_timeout_error_with_its_report(clock):
    with pytest.raises(WaitTimeoutError) as err:
        wait(results(None), clock, timeout=3, interval=1, description="the answer")
    assert isinstance(err.value, AssertionError)  # a plain `assert`-style failure in tests
    assert isinstance(err.value, HarnessError)
    report = err.value.report
    assert isinstance(report, WaitReport)
    assert report.attempts == 4  # t=0, 1, 2, 3
    assert report.elapsed_s == pytest.approx(3)
    assert report.description == "the answer"


def test_timeout_message_tells_the_whole_story(clock):
    def condition() -> Any:
        t = clock() - start
        if t < 2:
            return "starting"
        if t < 4:
            return "unhealthy"
        raise ConnectionResetError("reset by peer")

    start = clock()
    with pytest.raises(WaitTimeoutError) as err:
        wait(condition, clock, timeout=5, interval=1, transient=(ConnectionError,),
             until=lambda s: s == "healthy", description="db healthy")
    message = str(err.value)
    assert message.startswith("timed out after 5.0s (timeout 5s, every 1s, 6 attempts) "
                              "waiting for "
                              "db healthy"), message
    assert "last value: 'unhealthy'" in message
    assert "last exception: ConnectionResetError: reset by peer" in message
    # Distinct values only, each with when it was first seen.
    history = message.split("values seen (t+s: value):\n")[1].splitlines()
    assert [line.strip() for line in history] == [
        "t+0.0s: 'starting'",
        "t+2.0s: 'unhealthy'",
        "t+4.0s: <ConnectionResetError: reset by peer>",
    ]
    assert isinstance(err.value.__cause__, ConnectionResetError)


def test_timeout_after_values_only_has_no_exception_line(clock):
    with pytest.raises(WaitTimeoutError) as err:
        wait(results(0), clock, timeout=2)
    assert "last value: 0" in str(err.value)
    assert "last exception" not in str(err.value)
    assert err.value.__cause__ is None


def test_default_description_names_the_condition(clock):
    def db_is_up() -> bool:
        return False

    with pytest.raises(WaitTimeoutError, match="waiting for .*db_is_up"):
        wait(db_is_up, clock, timeout=1)


def test_zero_timeout_tries_exactly_once(clock):
    with pytest.raises(WaitTimeoutError) as err:
        wait(results(False), clock, timeout=0)
    assert err.value.report.attempts == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(("timeout", "interval"), [(1.0, 0.4), (2.5, 1.0), (0.3, 5.0)])
def test_sleep_never_overshoots_the_deadline(clock, timeout, interval):
    start = clock()
    with pytest.raises(WaitTimeoutError):
        wait(results(False), clock, timeout=timeout, interval=interval)
    assert max(clock.sleeps) <= interval
    assert clock() - start == pytest.approx(timeout)  # the last sleep was cut to fit
    assert clock.sleeps[-1] < interval


def test_a_slow_condition_uses_up_the_time_it_takes(clock):
    def slow() -> bool:
        clock.now += 0.75  # each attempt itself takes 0.75 s
        return False

    with pytest.raises(WaitTimeoutError) as err:
        wait(slow, clock, timeout=2, interval=0.5)
    assert err.value.report.attempts == 2  # 0-0.75, sleep to 1.25, 1.25-2.0: out of time
    assert clock.sleeps == [0.5]


# -- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize(("timeout", "interval"), [(-1, 0.5), (10, 0), (10, -0.5)])
def test_bad_timeout_or_interval_is_rejected_before_any_attempt(clock, timeout, interval):
    calls = []
    with pytest.raises(ValueError, match=f"timeout={timeout}, interval={interval}"):
        wait(lambda: calls.append(1), clock, timeout=timeout, interval=interval)
    assert calls == []


@pytest.mark.parametrize(("timeout", "interval"), [(math.nan, 0.5), (10, math.nan)],
                         ids=["nan-timeout", "nan-interval"])
def test_nan_timeout_or_interval_is_rejected(clock, timeout, interval):
    # Today: no ValueError; the wait spins until FakeClock's sleep limit stops it.
    with pytest.raises(ValueError, match="timeout must be"):
        wait(lambda: False, clock, timeout=timeout, interval=interval)
