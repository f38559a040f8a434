"""Request body parsing with Qdrant's error answers instead of FastAPI's 422s."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from ._errors import format_error, from_validation

M = TypeVar("M", bound=BaseModel)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity; Qdrant's serde_json does not.
    raise ValueError(f"invalid number `{name}`")


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        return {}  # lenient: every body model of ours accepts `{}` or says what is missing
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise format_error("JSON body", str(exc)) from exc


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, "JSON body") from exc


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A FastAPI dependency that reads the body as `model`."""

    def parse(raw: bytes) -> M:
        return validate(model, parse_json(raw))

    async def dependency(request: Request) -> M:
        raw = await request.body()
        # Big upserts take a while to decode; keep that off the event loop.
        return await run_in_threadpool(parse, raw)

    dependency.__name__ = f"json_body_{model.__name__}"
    return dependency
