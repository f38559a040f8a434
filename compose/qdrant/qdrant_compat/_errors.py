"""Errors with Qdrant's status codes and message prefixes (see its `StorageError`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

# pydantic error types that are value constraints, not shape errors: real Qdrant
# reports those as 422 "Validation error", everything else as 400 "Format error".
_CONSTRAINT_TYPES = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "multiple_of",
        "constraint",
    }
)

# Engine messages that point at the server, not at the request.
_INTERNAL_MARKERS = ("Service internal error", "IO error", "No space left", "out of memory")


class ApiError(Exception):
    """An error answered as `{"status": {"error": message}, "time": ...}`."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def bad_input(description: str) -> ApiError:
    return ApiError(400, f"Wrong input: {description}")


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad request: {description}")


def format_error(where: str, description: str) -> ApiError:
    return ApiError(400, f"Format error in {where}: {description}")


def collection_not_found(name: str) -> ApiError:
    return ApiError(404, f"Not found: Collection `{name}` doesn't exist!")


def collection_exists(name: str) -> ApiError:
    return ApiError(409, f"Wrong input: Collection `{name}` already exists!")


def point_not_found(point_id: int | str) -> ApiError:
    return ApiError(404, f"Not found: No point with id {point_id} found")


def internal(description: str) -> ApiError:
    return ApiError(500, f"Service internal error: {description}")


def _describe(err: Mapping[str, Any]) -> str:
    # Union labels ("tagged-union[...]", our "~tags") are not part of what the user wrote.
    loc = ".".join(
        str(part)
        for part in err.get("loc", ())
        if "[" not in str(part) and not str(part).startswith("~")
    )
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])


def from_validation(exc: ValidationError, where: str) -> ApiError:
    return from_errors(exc.errors(include_url=False), where)


def from_errors(errors: Sequence[Mapping[str, Any]], where: str) -> ApiError:
    """Map pydantic errors to Qdrant's 400 (shape) or 422 (constraint) answer."""
    if errors and all(err["type"] in _CONSTRAINT_TYPES for err in errors):
        listed = ", ".join(_describe(err) for err in errors)
        return ApiError(422, f"Validation error in {where}: [{listed}]")
    return format_error(where, "; ".join(_describe(err) for err in errors))


def from_engine(exc: Exception) -> ApiError:
    """Classify an exception raised by qdrant_edge.

    Requests are validated before they reach the engine, so what it still rejects
    is nearly always the request's fault (e.g. `order_by` without a range index).
    """
    message = str(exc).strip() or type(exc).__name__
    if any(marker.lower() in message.lower() for marker in _INTERNAL_MARKERS):
        return internal(message)
    return bad_input(message)
