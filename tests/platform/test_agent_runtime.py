"""The agent loop's idempotency: a task id runs once, however often it is delivered."""

from __future__ import annotations

import json
from concurrent.futures import wait

import pytest

from optiinfra.agents.runtime import LEASE_KEY, RESULT_KEY, AgentRuntime
from optiinfra.common.messages import RESULT_STREAM, Task, encode
from optiinfra.common.settings import Settings


class FakeRedis:
    """The few Redis commands the runtime uses, in memory (expiry is not modelled)."""

    def __init__(self) -> None:
        self.kv: dict[str, str] = {}
        self.streams: dict[str, list[dict]] = {}
        self.acked: list[str] = []

    def get(self, key: str) -> str | None:
        return self.kv.get(key)

    def set(self, key: str, value: str, nx: bool = False, **_ttl: object) -> bool:
        if nx and key in self.kv:
            return False
        self.kv[key] = value
        return True

    def delete(self, key: str) -> None:
        self.kv.pop(key, None)

    def pexpire(self, key: str, _ms: int) -> None:
        pass

    def xadd(self, stream: str, fields: dict) -> None:
        self.streams.setdefault(stream, []).append(fields)

    def xack(self, _stream: str, _group: str, mid: str) -> None:
        self.acked.append(mid)

    def pipeline(self, transaction: bool = True) -> FakeRedis:
        return self

    def execute(self) -> None:
        pass


@pytest.fixture
def runtime() -> AgentRuntime:
    calls: list[str] = []

    def handler(task: Task) -> dict:
        calls.append(task.id)
        return {"n": len(calls)}

    rt = AgentRuntime("cost", {"analyze": handler}, Settings(admin_token="x" * 10))
    rt.redis = rt.consumer.r = FakeRedis()  # type: ignore[assignment]
    rt.calls = calls  # type: ignore[attr-defined]
    return rt


def deliver(rt: AgentRuntime, mid: str, task: Task) -> None:
    rt.submit([(mid, encode(task))])
    wait(list(rt.inflight))
    rt.flush()


def results(rt: AgentRuntime) -> list[dict]:
    return [json.loads(f["data"]) for f in rt.redis.streams.get(RESULT_STREAM, [])]


def test_a_task_delivered_twice_runs_once_and_answers_twice(runtime: AgentRuntime) -> None:
    task = Task(id="t-1", type="analyze", agent="cost", customer_id="c")
    deliver(runtime, "1-0", task)
    deliver(runtime, "2-0", task)  # e.g. a retry that reuses the idempotency key
    assert runtime.calls == ["t-1"]  # type: ignore[attr-defined]
    got = results(runtime)
    assert [r["payload"] for r in got] == [{"n": 1}, {"n": 1}]
    assert runtime.redis.acked == ["1-0", "2-0"]
    assert LEASE_KEY.format(id="t-1") not in runtime.redis.kv


def test_a_task_leased_by_another_agent_is_left_pending(runtime: AgentRuntime) -> None:
    runtime.redis.kv[LEASE_KEY.format(id="t-2")] = "cost-other-host"
    runtime.submit([("3-0", encode(Task(id="t-2", type="analyze", agent="cost",
                                            customer_id="c")))])
    assert runtime.inflight == {} and runtime.redis.acked == [] and not results(runtime)


def test_failures_are_reported_and_not_cached(runtime: AgentRuntime) -> None:
    task = Task(id="t-3", type="no-such-type", agent="cost", customer_id="c")
    deliver(runtime, "4-0", task)
    (res,) = results(runtime)
    assert res["ok"] is False and "no task type" in res["error"]
    assert RESULT_KEY.format(id="t-3") not in runtime.redis.kv
    assert runtime.redis.acked == ["4-0"]
