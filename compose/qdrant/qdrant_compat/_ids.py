"""Point ids: unsigned integers or UUIDs, as Qdrant accepts and prints them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from ._errors import format_error

_MAX_ID = 2**64 - 1


def _invalid(value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        "point_id",
        "value {value} is not a valid point ID, "
        "valid values are either an unsigned integer or a UUID",
        {"value": value},
    )


def parse_point_id(value: Any) -> int | str:
    """Return an int, or a UUID in canonical form (Qdrant prints them that way)."""
    if isinstance(value, bool):
        raise _invalid(value)
    if isinstance(value, int):
        if 0 <= value <= _MAX_ID:
            return value
        raise _invalid(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise _invalid(value) from None
    raise _invalid(value)


# Validated values are int or str; UUID is in the union only to match the engine's stubs.
PointId = Annotated[int | uuid.UUID | str, BeforeValidator(parse_point_id)]


def path_point_id(raw: str) -> int | str:
    """A point id from the URL, where integers arrive as text."""
    try:
        return parse_point_id(int(raw) if raw.isdigit() else raw)
    except PydanticCustomError as exc:
        raise format_error("path parameters", str(exc)) from exc


def id_out(value: Any) -> int | str:
    """The engine returns `uuid.UUID` for UUID ids; JSON wants the string."""
    return str(value) if isinstance(value, uuid.UUID) else value


def require_id(value: Any) -> int | str:
    try:
        return parse_point_id(value)
    except PydanticCustomError as exc:
        raise format_error("JSON body", str(exc)) from exc
