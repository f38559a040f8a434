"""Fan-out of the orchestrator's events (a Redis stream) to each customer's WebSockets."""

from __future__ import annotations

import asyncio
import json
import logging

import redis.asyncio as aredis

from ..common.bus import is_transient
from ..common.messages import EVENT_STREAM

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000


class EventHub:
    def __init__(self, rds: aredis.Redis) -> None:
        self.redis = rds
        self.subscribers: dict[str, set[asyncio.Queue[str]]] = {}
        self.last_id = "$"
        self.healthy = False

    def subscribe(self, customer_id: str) -> asyncio.Queue[str]:
        q: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self.subscribers.setdefault(customer_id, set()).add(q)
        return q

    def unsubscribe(self, customer_id: str, q: asyncio.Queue[str]) -> None:
        subs = self.subscribers.get(customer_id, set())
        subs.discard(q)
        if not subs:
            self.subscribers.pop(customer_id, None)

    def dispatch(self, raw: str) -> None:
        try:
            event = json.loads(raw)
        except ValueError:
            return
        for q in self.subscribers.get(event.get("customer_id", ""), ()):
            try:
                q.put_nowait(raw)
            except asyncio.QueueFull:
                log.warning("slow websocket of %s: dropping an event", event["customer_id"])

    async def run(self) -> None:
        """Read from where we stopped, so a Redis restart loses no event (within MAXLEN)."""
        backoff = 0.5
        if self.last_id == "$":
            while True:  # pin the start so events during a reconnect are not skipped
                try:
                    info = await self.redis.xinfo_stream(EVENT_STREAM)
                    self.last_id = info["last-generated-id"]
                    break
                except Exception as e:  # noqa: BLE001 - absent stream or Redis not up yet
                    if "no such key" in str(e).lower():
                        self.last_id = "0-0"
                        break
                    await asyncio.sleep(backoff)
        while True:
            try:
                resp = await self.redis.xread({EVENT_STREAM: self.last_id}, count=500, block=1000)
                self.healthy = True
                backoff = 0.5
                for _stream, msgs in resp or []:
                    for mid, fields in msgs:
                        self.last_id = mid
                        self.dispatch(fields.get("data", "{}"))
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.healthy = False
                if not is_transient(e):
                    log.exception("event hub")
                else:
                    log.warning("event hub: redis unavailable (%s)", e)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
