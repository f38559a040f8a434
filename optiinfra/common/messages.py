"""What travels over Redis Streams: tasks to agents, their results, and events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

TASK_STREAM = "optiinfra:tasks:{agent}"
RESULT_STREAM = "optiinfra:results"
EVENT_STREAM = "optiinfra:events"
EVENT_STREAM_MAXLEN = 50_000
TRAFFIC_KEY = "optiinfra:traffic:{customer_id}"


def task_stream(agent: str) -> str:
    return TASK_STREAM.format(agent=agent)


def now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Task(BaseModel):
    """Work for one agent. ``id`` is the idempotency key: a redelivery carries the same id."""

    id: str = Field(default_factory=new_id)
    type: str
    agent: str
    customer_id: str
    payload: dict[str, Any] = Field(default_factory=dict)


class Result(BaseModel):
    task_id: str
    type: str
    agent: str
    customer_id: str
    ok: bool
    payload: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class Event(BaseModel):
    """One event for the portal to fan out; the wire shape of ``WS /ws/events``."""

    type: str
    customer_id: str
    entity_id: str
    at: datetime = Field(default_factory=now)
    data: dict[str, Any] = Field(default_factory=dict)


def encode(model: BaseModel) -> dict[str, str]:
    return {"data": model.model_dump_json()}


def decode_fields(fields: dict) -> dict[str, Any]:
    raw = fields.get("data") or fields.get(b"data")
    if isinstance(raw, bytes):
        raw = raw.decode()
    return json.loads(raw)
