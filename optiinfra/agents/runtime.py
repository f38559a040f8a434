"""An agent's main loop: take tasks from its stream, run handlers in threads, reply, ack.

A task is acknowledged only after its result is on the results stream, so an agent that dies
mid-task leaves it pending; another agent claims it once idle (see ``common.bus``).

The task id is an idempotency key. Before running a task an agent takes a lease on its id
(refreshed while it runs, so it lapses only when the agent dies) and afterwards keeps the
result under the id for a while: a task sent again, or delivered twice, is run once and its
result re-sent.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from pydantic import ValidationError

from ..common.bus import SyncConsumer, is_transient
from ..common.messages import RESULT_STREAM, Result, Task, decode_fields, encode, task_stream
from ..common.redis_clients import sync_client
from ..common.service import Heartbeat, setup_logging, start_coverage, stop_event
from ..common.settings import Settings, get_settings

log = logging.getLogger(__name__)
Handler = Callable[[Task], dict]
TOUCH_EVERY_S = 2.0
CLAIM_EVERY_S = 3.0
LEASE_KEY = "optiinfra:task:{id}:lease"
RESULT_KEY = "optiinfra:task:{id}:result"
RESULT_TTL_S = 3600


class AgentRuntime:
    def __init__(self, name: str, handlers: dict[str, Handler], settings: Settings) -> None:
        self.name, self.handlers, self.settings = name, handlers, settings
        self.redis = sync_client(settings.redis_url)
        self.consumer = SyncConsumer(self.redis, task_stream(name), f"{name}-agents",
                                     f"{name}-{socket.gethostname()}",
                                     settings.task_claim_idle_ms)
        self.pool = ThreadPoolExecutor(settings.agent_concurrency,
                                       thread_name_prefix=f"{name}-task")
        self.inflight: dict[Future, tuple[str, Task]] = {}
        self.unsent: list[tuple[str, Result]] = []  # results waiting for Redis to come back
        self.heartbeat = Heartbeat(settings.heartbeat_path)

    def handle(self, task: Task) -> Result:
        handler = self.handlers.get(task.type)
        try:
            if handler is None:
                raise ValueError(f"agent {self.name} has no task type {task.type!r}")
            payload = handler(task)
            return Result(task_id=task.id, type=task.type, agent=self.name,
                          customer_id=task.customer_id, ok=True, payload=payload)
        except Exception as e:  # a failed task is reported (and logged), never lost
            log.exception("task %s (%s) failed", task.id, task.type)
            return Result(task_id=task.id, type=task.type, agent=self.name,
                          customer_id=task.customer_id, ok=False,
                          error=f"{type(e).__name__}: {e}")

    @property
    def lease_ms(self) -> int:
        return max(self.settings.task_claim_idle_ms, 3000)

    def submit(self, entries: list[tuple[str, dict]]) -> None:
        running = {t.id for _, t in self.inflight.values()}
        for mid, fields in entries:
            try:
                task = Task.model_validate(decode_fields(fields))
            except (ValidationError, ValueError, TypeError):
                log.error("dropping malformed task %s: %r", mid, fields)
                self.consumer.ack(mid)
                continue
            if task.id in running:  # our own pending entry re-read: already running
                continue
            done = self.redis.get(RESULT_KEY.format(id=task.id))
            if done is not None:  # ran before: send the same result again, run nothing
                self.redis.xadd(RESULT_STREAM, {"data": done})
                self.consumer.ack(mid)
                continue
            if not self.redis.set(LEASE_KEY.format(id=task.id), self.consumer.consumer,
                                  nx=True, px=self.lease_ms):
                # Another agent runs it now. Leave the entry pending: once idle it is claimed
                # again and by then answered from the stored result (or the lease lapsed).
                continue
            running.add(task.id)
            self.inflight[self.pool.submit(self.handle, task)] = (mid, task)

    def flush(self) -> None:
        for fut in [f for f in self.inflight if f.done()]:
            mid, _task = self.inflight.pop(fut)
            self.unsent.append((mid, fut.result()))
        while self.unsent:
            mid, result = self.unsent[0]
            data = encode(result)
            pipe = self.redis.pipeline(transaction=True)
            if result.ok:  # failures are not kept: a retry runs the task again
                pipe.set(RESULT_KEY.format(id=result.task_id), data["data"], ex=RESULT_TTL_S)
            pipe.xadd(RESULT_STREAM, data)
            pipe.xack(self.consumer.stream, self.consumer.group, mid)
            pipe.delete(LEASE_KEY.format(id=result.task_id))
            pipe.execute()
            self.unsent.pop(0)

    def renew_leases(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for _mid, task in self.inflight.values():
            pipe.pexpire(LEASE_KEY.format(id=task.id), self.lease_ms)
        pipe.execute()

    def run(self) -> None:
        stop = stop_event()
        log.info("agent %s consuming %s", self.name, self.consumer.stream)
        need_group, backoff = True, 0.5
        last_touch = last_claim = 0.0
        while not stop.is_set():
            self.heartbeat.beat()
            try:
                if need_group:
                    self.consumer.ensure_group()
                    need_group = False
                self.flush()
                now = time.monotonic()
                if now - last_touch >= TOUCH_EVERY_S:
                    self.consumer.touch(mid for mid, _ in self.inflight.values())
                    self.renew_leases()
                    last_touch = now
                free = self.settings.agent_concurrency - len(self.inflight)
                if now - last_claim >= CLAIM_EVERY_S and free > 0:
                    claimed = self.consumer.claim_idle(free)
                    if claimed:
                        log.warning("claimed %d idle task(s) from dead consumers", len(claimed))
                    self.submit(claimed)
                    last_claim = now
                    free = self.settings.agent_concurrency - len(self.inflight)
                if free > 0:
                    self.submit(self.consumer.read(free, block_ms=200 if self.inflight else 1000))
                else:
                    wait(list(self.inflight), timeout=0.5, return_when=FIRST_COMPLETED)
                backoff = 0.5
            except Exception as e:
                if not is_transient(e):
                    raise
                log.warning("redis unavailable (%s); retrying in %.1fs", e, backoff)
                self.consumer.reset()
                need_group = True
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.pool.shutdown(wait=True, cancel_futures=True)
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - unacked tasks are redelivered to another agent
            log.warning("could not flush results on shutdown")


def main(name: str, build_handlers: Callable[[Settings], dict[str, Handler]]) -> None:
    start_coverage()
    settings = get_settings()
    setup_logging(settings.log_level, f"agent-{name}")
    AgentRuntime(name, build_handlers(settings), settings).run()
