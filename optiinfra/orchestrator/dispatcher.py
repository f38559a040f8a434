"""The orchestrator's side of the bus: the outbox relay, results consumer, and agent RPC."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import Awaitable, Callable

import psycopg
import redis.asyncio as aredis
from psycopg_pool import PoolTimeout
from pydantic import ValidationError

from ..common.bus import AsyncConsumer, is_transient
from ..common.db import Database
from ..common.messages import (
    EVENT_STREAM,
    EVENT_STREAM_MAXLEN,
    RESULT_STREAM,
    Result,
    Task,
    decode_fields,
    encode,
    task_stream,
)

log = logging.getLogger(__name__)
ResultHandler = Callable[[Result], Awaitable[None]]


class AgentTimeout(TimeoutError):
    def __init__(self, agent: str, task_type: str, timeout: float) -> None:
        super().__init__(f"agent {agent} did not answer {task_type} within {timeout:.0f}s")
        self.agent, self.task_type = agent, task_type


class AgentError(RuntimeError):
    def __init__(self, agent: str, task_type: str, error: str | None) -> None:
        super().__init__(f"agent {agent} failed {task_type}: {error}")
        self.agent, self.task_type = agent, task_type


def db_transient(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.OperationalError | PoolTimeout)


class Dispatcher:
    def __init__(self, db: Database, rds: aredis.Redis, claim_idle_ms: int) -> None:
        self.db, self.redis = db, rds
        self.consumer = AsyncConsumer(rds, RESULT_STREAM, "orchestrator",
                                      f"orchestrator-{socket.gethostname()}", claim_idle_ms)
        self.waiting: dict[str, asyncio.Future[Result]] = {}
        self.kick = asyncio.Event()
        self.handler: ResultHandler | None = None
        self.healthy = {"relay": False, "results": False}

    # ---- RPC: a task whose result someone awaits right now --------------------------------
    async def call(self, agent: str, task_type: str, customer_id: str, payload: dict,
                   timeout: float, task_id: str | None = None) -> dict:
        """Send a task and wait for its result. Calling again with the same ``task_id`` (a
        retry after a timeout) waits for the same result; the agent runs the task once."""
        task = Task(type=task_type, agent=agent, customer_id=customer_id, payload=payload,
                    **({"id": task_id} if task_id else {}))
        fut = self.waiting.get(task.id)
        if fut is None or fut.done():
            fut = self.waiting[task.id] = asyncio.get_running_loop().create_future()
        try:
            await self.redis.xadd(task_stream(agent), encode(task))
            result = await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            raise AgentTimeout(agent, task_type, timeout) from None
        self.waiting.pop(task.id, None)
        if not result.ok:
            raise AgentError(agent, task_type, result.error)
        return result.payload

    # ---- outbox relay: tasks and events committed with state, sent to Redis ----------------
    async def relay_once(self) -> int:
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT id, stream, body FROM outbox WHERE sent_at IS NULL "
                                     "ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED")
            rows = await cur.fetchall()
            if not rows:
                return 0
            pipe = self.redis.pipeline(transaction=False)
            for r in rows:
                maxlen = EVENT_STREAM_MAXLEN if r["stream"] == EVENT_STREAM else None
                pipe.xadd(r["stream"], {"data": json.dumps(r["body"])}, maxlen=maxlen,
                          approximate=True)
            await pipe.execute()
            await conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)",
                               ([r["id"] for r in rows],))
        return len(rows)

    async def relay_forever(self) -> None:
        backoff, last_prune = 0.5, 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                sent = await self.relay_once()
                self.healthy["relay"] = True
                backoff = 0.5
                if loop.time() - last_prune > 60:
                    async with self.db.tx() as conn:
                        await conn.execute("DELETE FROM outbox WHERE sent_at < now() - "
                                           "interval '1 hour'")
                    last_prune = loop.time()
                if sent:
                    continue
                self.kick.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.kick.wait(), 1.0)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the relay outlives any error: logged, retried
                self.healthy["relay"] = False
                level = logging.WARNING if is_transient(e) or db_transient(e) else logging.ERROR
                log.log(level, "outbox relay: %s; retrying in %.1fs", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    # ---- results --------------------------------------------------------------------------
    async def _apply(self, mid: str, fields: dict) -> None:
        try:
            result = Result.model_validate(decode_fields(fields))
        except (ValidationError, ValueError, TypeError):
            log.error("dropping malformed result %s", mid)
            await self.consumer.ack(mid)
            return
        fut = self.waiting.get(result.task_id)
        if fut is not None:
            if not fut.done():
                fut.set_result(result)
            self.waiting.pop(result.task_id, None)
        elif self.handler is not None:
            try:
                await self.handler(result)
            except Exception as e:
                if is_transient(e) or db_transient(e):
                    raise  # left pending: re-read and applied once the datastore is back
                log.exception("result %s of task %s cannot be applied; dropped", mid,
                              result.task_id)
        await self.consumer.ack(mid)

    async def consume_forever(self) -> None:
        need_group, backoff = True, 0.5
        loop = asyncio.get_running_loop()
        last_claim = 0.0
        while True:
            try:
                if need_group:
                    await self.consumer.ensure_group()
                    need_group = False
                entries = []
                if loop.time() - last_claim > 3:
                    entries = await self.consumer.claim_idle(50)
                    last_claim = loop.time()
                entries = entries or await self.consumer.read(50, block_ms=1000)
                self.healthy["results"] = True
                for mid, fields in entries:
                    await self._apply(mid, fields)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.healthy["results"] = False
                if not (is_transient(e) or db_transient(e)):
                    log.exception("results consumer")
                else:
                    log.warning("results consumer: %s; retrying in %.1fs", e, backoff)
                self.consumer.reset()
                need_group = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
