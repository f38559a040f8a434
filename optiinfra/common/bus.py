"""Redis Streams with consumer groups: at-least-once delivery that survives dead consumers.

A consumer reads its own pending entries first (after a restart), then new ones; every
``claim_every_s`` it takes over entries idle longer than ``claim_idle_ms`` in other
consumers' pending lists (XAUTOCLAIM). Live consumers reset the idle time of entries they are
still working on (XCLAIM JUSTID), so only a dead consumer's entries age into a claim.
Handlers must be idempotent: redelivery repeats a task's id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis
import redis.asyncio as aredis

log = logging.getLogger(__name__)
Entry = tuple[str, dict]


def _entries(resp: list | None) -> list[Entry]:
    out: list[Entry] = []
    for _stream, msgs in resp or []:
        out.extend((mid, fields) for mid, fields in msgs if fields is not None)
    return out


class SyncConsumer:
    def __init__(self, client: redis.Redis, stream: str, group: str, consumer: str,
                 claim_idle_ms: int) -> None:
        self.r, self.stream, self.group, self.consumer = client, stream, group, consumer
        self.claim_idle_ms = claim_idle_ms
        self._backlog = True  # re-read our own pending entries first after (re)start

    def ensure_group(self) -> None:
        try:
            self.r.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def read(self, count: int, block_ms: int) -> list[Entry]:
        if self._backlog:
            got = _entries(self.r.xreadgroup(self.group, self.consumer, {self.stream: "0"},
                                             count=count))
            if got:
                return got
            self._backlog = False
        return _entries(self.r.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                          count=count, block=block_ms))

    def claim_idle(self, count: int) -> list[Entry]:
        resp = self.r.xautoclaim(self.stream, self.group, self.consumer,
                                 min_idle_time=self.claim_idle_ms, start_id="0-0", count=count)
        return [(mid, f) for mid, f in resp[1] if f is not None]

    def touch(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            self.r.xclaim(self.stream, self.group, self.consumer, min_idle_time=0,
                          message_ids=ids, justid=True)

    def ack(self, mid: str) -> None:
        self.r.xack(self.stream, self.group, mid)

    def reset(self) -> None:
        """After a connection error: the server may have restarted, re-read pending."""
        self._backlog = True


class AsyncConsumer:
    def __init__(self, client: aredis.Redis, stream: str, group: str, consumer: str,
                 claim_idle_ms: int) -> None:
        self.r, self.stream, self.group, self.consumer = client, stream, group, consumer
        self.claim_idle_ms = claim_idle_ms
        self._backlog = True

    async def ensure_group(self) -> None:
        try:
            await self.r.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def read(self, count: int, block_ms: int) -> list[Entry]:
        if self._backlog:
            got = _entries(await self.r.xreadgroup(self.group, self.consumer,
                                                   {self.stream: "0"}, count=count))
            if got:
                return got
            self._backlog = False
        return _entries(await self.r.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                                count=count, block=block_ms))

    async def claim_idle(self, count: int) -> list[Entry]:
        resp = await self.r.xautoclaim(self.stream, self.group, self.consumer,
                                       min_idle_time=self.claim_idle_ms, start_id="0-0",
                                       count=count)
        return [(mid, f) for mid, f in resp[1] if f is not None]

    async def ack(self, mid: str) -> None:
        await self.r.xack(self.stream, self.group, mid)

    def reset(self) -> None:
        self._backlog = True


def is_transient(exc: BaseException) -> bool:
    """Errors a Redis restart causes; the loop backs off and retries them."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | OSError):
        return True
    return isinstance(exc, redis.ResponseError) and ("NOGROUP" in str(exc)
                                                     or "LOADING" in str(exc))
