"""The domain waits (harness/domain/_waits.py) over a scripted portal: what they retry, what
they fail on at once, when they are met. A fake clock and sleep: these tests never sleep."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.core import WaitTimeoutError, wait_for
from harness.domain import (
    ApiStatusError,
    ApiUnreachableError,
    OptimizationFailedError,
    PortalClient,
    _waits,
    wait_for_condition,
    wait_for_metric_change,
    wait_for_optimization_complete,
    wait_for_optimization_status,
    wait_for_recommendation,
    wait_for_validation,
)
from tests.harness.fakes import FakeClock, results

pytestmark = pytest.mark.unit

Answer = httpx.Response | Exception


class ScriptedPortal:
    """Answers each path with the next scripted response (the last one repeats)."""

    def __init__(self) -> None:
        self.script: dict[str, list[Answer]] = {}
        self.calls: list[str] = []

    def on(self, path: str, *answers: Answer) -> None:
        self.script[path] = list(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        queue = self.script[request.url.path]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The waits' engine on a fake clock (an EventStream's sleep still overrides the sleep)."""
    fake = FakeClock()
    monkeypatch.setattr(_waits, "wait_for", functools.partial(wait_for, clock=fake,
                                                              sleep=fake.sleep))
    return fake


@pytest.fixture
def portal() -> ScriptedPortal:
    return ScriptedPortal()


@pytest.fixture
def client(portal: ScriptedPortal) -> Iterator[PortalClient]:
    with PortalClient("http://portal", token="tok",
                      transport=httpx.MockTransport(portal)) as api:
        yield api


def rec(status: str, *approvals: str, rejects: tuple[str, ...] = (), rid: str = "r1",
        kind: str = "spot_migration") -> dict[str, Any]:
    votes = [{"agent": a, "verdict": "approve", "reason": "ok"} for a in approvals]
    votes += [{"agent": a, "verdict": "reject", "reason": "no"} for a in rejects]
    return {"id": rid, "kind": kind, "status": status, "validations": votes}


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


def opt(status: str, **extra: Any) -> httpx.Response:
    return ok({"id": "o1", "status": status, **extra})


REC = "/api/v1/recommendations/r1"
RECS = "/api/v1/recommendations"
OPT = "/api/v1/optimizations/o1"


# -- what is retried, what fails at once --------------------------------------------------------

@pytest.mark.parametrize("hiccup", [
    httpx.ConnectError("connection refused"),
    httpx.ReadTimeout("read timed out"),
    httpx.Response(502, text="bad gateway"),
    httpx.Response(503, json={"detail": "orchestrator unavailable"}),
    httpx.Response(504, text="gateway timeout"),
], ids=["connect-error", "read-timeout", "502", "503", "504"])
def test_no_answer_is_retried_until_the_portal_answers(clock, portal, client, hiccup):
    portal.on(REC, hiccup, hiccup, ok(rec("validated", "performance", "application")))
    got = wait_for_validation(client, "r1", timeout=10)
    assert got.status == "validated"
    assert portal.calls == [REC] * 3
    assert clock.sleeps == [1.0, 1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
def test_an_error_status_fails_the_wait_at_once_with_status_and_body(clock, portal, client,
                                                                     status):
    portal.on(REC, httpx.Response(status, json={"detail": f"said {status}"}),
              ok(rec("validated", "performance", "application")))
    with pytest.raises(ApiStatusError) as err:
        wait_for_validation(client, "r1", timeout=60)
    assert err.value.status == status
    assert err.value.body == {"detail": f"said {status}"}
    assert f"GET http://portal{REC} -> {status}: said {status}" in str(err.value)
    assert portal.calls == [REC]
    assert clock.sleeps == []  # not retried until the timeout


def test_a_portal_that_never_answers_times_out_in_the_one_format(clock, portal, client):
    portal.on(REC, httpx.ConnectError("connection refused"))
    with pytest.raises(WaitTimeoutError) as err:
        wait_for_validation(client, "r1", timeout=3, interval=1)
    message = str(err.value)
    assert message.startswith("timed out after 3.0s (timeout 3s, every 1s, 4 attempts) "
                              "waiting for recommendation r1 to be rejected, or validated "
                              "with approvals of 2+ agents"), message
    assert "last exception: ApiUnreachableError: GET http://portal" in message
    assert isinstance(err.value.__cause__, ApiUnreachableError)


# -- wait_for_validation -------------------------------------------------------------------------

def test_validation_waits_for_min_agents_approvals(clock, portal, client):
    portal.on(REC, ok(rec("pending", "performance")),
              ok(rec("validated", "performance", "application")),
              ok(rec("validated", "performance", "application", "resource")))
    got = wait_for_validation(client, "r1", min_agents=3, timeout=30)
    assert got.approving_agents == ["application", "performance", "resource"]
    assert len(portal.calls) == 3


def test_validation_with_fewer_approvals_than_asked_times_out(clock, portal, client):
    portal.on(REC, ok(rec("validated", "performance", "application")))
    with pytest.raises(WaitTimeoutError) as err:
        wait_for_validation(client, "r1", min_agents=3, timeout=5)
    assert "validated with approvals of 3+ agents" in str(err.value)
    assert err.value.report.last_value.approving_agents == ["application", "performance"]


def test_a_rejection_ends_the_wait_at_once_whatever_min_agents(clock, portal, client):
    portal.on(REC, ok(rec("pending")),
              ok(rec("rejected", "performance", rejects=("application",))))
    got = wait_for_validation(client, "r1", min_agents=4, timeout=30)
    assert got.status == "rejected"
    assert clock.sleeps == [1.0]


def test_validation_default_asks_two_approvals(clock, portal, client):
    portal.on(REC, ok(rec("validated", "performance")),
              ok(rec("validated", "performance", "application")))
    assert wait_for_validation(client, "r1", timeout=30).approving_agents == [
        "application", "performance"]
    assert len(portal.calls) == 2


# -- wait_for_recommendation ---------------------------------------------------------------------

def recs(*items: dict[str, Any]) -> httpx.Response:
    return ok({"data": list(items), "count": len(items)})


def test_recommendation_of_kind_and_status_skipping_excluded(clock, portal, client):
    portal.on(RECS, recs(),
              recs(rec("pending", rid="r1")),
              recs(rec("pending", rid="r1"), rec("validated", rid="old"),
                   rec("validated", rid="r2")))
    got = wait_for_recommendation(client, status="validated", exclude={"old"}, timeout=30)
    assert got.id == "r2"
    assert len(portal.calls) == 3


def test_recommendation_asks_for_its_kind(clock, portal, client):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return recs(rec("pending", rid="r9", kind="rightsizing"))

    with PortalClient("http://portal", token="t", transport=httpx.MockTransport(handler)) as c:
        assert wait_for_recommendation(c, kind="rightsizing", timeout=1).id == "r9"
    assert seen[0].url.params["kind"] == "rightsizing"


def test_no_recommendation_times_out_naming_kind_and_status(clock, portal, client):
    portal.on(RECS, recs())
    with pytest.raises(WaitTimeoutError, match="waiting for a 'spot_migration' recommendation "
                                               "with status 'validated'"):
        wait_for_recommendation(client, status="validated", timeout=2)


def test_recommendation_wait_fails_at_once_on_401(clock, portal, client):
    portal.on(RECS, httpx.Response(401, json={"detail": "invalid token"}))
    with pytest.raises(ApiStatusError) as err:
        wait_for_recommendation(client, timeout=120)
    assert err.value.status == 401 and err.value.body == {"detail": "invalid token"}
    assert clock.sleeps == []


# -- optimizations ---------------------------------------------------------------------------------

def test_optimization_complete(clock, portal, client):
    portal.on(OPT, opt("pending"), opt("running"), opt("completed", quality_score=0.97))
    got = wait_for_optimization_complete(client, "o1", timeout=60)
    assert got.status == "completed" and got.quality_score == 0.97
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("end", ["rolled_back", "failed"])
def test_optimization_that_ends_otherwise_fails_fast_with_its_steps(clock, portal, client, end):
    portal.on(OPT, opt("running"), opt(end, reason="validate_10: quality 0.62 < 0.90", steps=[
        {"name": "shift_traffic_10", "status": "completed", "traffic_pct": 10},
        {"name": "validate_10", "status": "failed", "traffic_pct": 10}]))
    with pytest.raises(OptimizationFailedError) as err:
        wait_for_optimization_complete(client, "o1", timeout=600)
    message = str(err.value)
    assert f"optimization o1 ended '{end}' instead of 'completed'" in message
    assert "reason: validate_10: quality 0.62 < 0.90" in message
    assert "validate_10" in message.split("\n", 1)[1] and "failed" in message
    assert len(clock.sleeps) == 1  # not waited out to the timeout


def test_optimization_status_returns_the_first_listed_state(clock, portal, client):
    portal.on(OPT, opt("running"), opt("running"), opt("rolled_back"))
    got = wait_for_optimization_status(client, "o1", ("rolled_back", "failed"), timeout=60)
    assert got.status == "rolled_back"
    assert len(portal.calls) == 3


def test_optimization_status_timeout_names_the_states(clock, portal, client):
    portal.on(OPT, opt("running"))
    with pytest.raises(WaitTimeoutError, match="optimization o1 to reach rolled_back/failed"):
        wait_for_optimization_status(client, "o1", ("rolled_back", "failed"), timeout=3)


def test_optimization_of_another_customer_fails_at_once_with_404(clock, portal, client):
    portal.on(OPT, httpx.Response(404, json={"detail": "optimization not found"}))
    with pytest.raises(ApiStatusError, match="-> 404: optimization not found"):
        wait_for_optimization_complete(client, "o1", timeout=600)
    assert clock.sleeps == []


# -- events wake the wait ------------------------------------------------------------------------

class FakeEvents:
    """Stands in for an EventStream: its sleep is where a real one wakes on an event."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.naps: list[float] = []

    def wait_for_new_event(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.clock.now += 0.1  # an event arrived 0.1 s into the nap


def test_an_event_stream_is_the_sleep_between_polls(clock, portal, client):
    events = FakeEvents(clock)
    portal.on(OPT, opt("running"), opt("running"), opt("completed"))
    wait_for_optimization_complete(client, "o1", timeout=60, interval=5,
                                   events=events)  # type: ignore[arg-type]
    assert events.naps == [5, 5]
    assert clock.sleeps == []  # the stream slept, not the clock
    assert clock() == pytest.approx(0.2)  # woken early each time


# -- metrics and generic conditions -----------------------------------------------------------

def test_metric_change_skips_missing_values(clock):
    value = wait_for_metric_change(results(None, 200.0, None, 90.0),
                                   predicate=lambda v: v < 100, timeout=30)
    assert value == 90.0
    assert len(clock.sleeps) == 3


def test_metric_change_timeout_shows_the_values_seen(clock):
    with pytest.raises(WaitTimeoutError) as err:
        wait_for_metric_change(results(150.0, 140.0), predicate=lambda v: v < 100,
                               timeout=3, description="p95 below 100 ms")
    message = str(err.value)
    assert "waiting for p95 below 100 ms" in message
    assert "t+0.0s: 150.0" in message and "t+1.0s: 140.0" in message


def test_condition_retries_only_unreachable(clock):
    unreachable = ApiUnreachableError("GET", "http://portal/x", None, "no answer")
    assert wait_for_condition(results(unreachable, "ok"), timeout=5) == "ok"
    with pytest.raises(ApiStatusError):
        wait_for_condition(results(ApiStatusError("GET", "http://portal/x", 403, "no"), "ok"),
                           timeout=5)


def test_condition_default_description_is_its_name(clock):
    def fleet_is_small() -> bool:
        return False

    with pytest.raises(WaitTimeoutError, match="waiting for .*fleet_is_small"):
        wait_for_condition(fleet_is_small, timeout=1)
