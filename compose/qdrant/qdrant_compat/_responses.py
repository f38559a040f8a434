"""Qdrant's response envelope: `{"result", "status", "time"}`."""

from __future__ import annotations

import time
from typing import Any

from fastapi.responses import JSONResponse


class Timer:
    """Measures the `time` field, in seconds, like Qdrant does."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self._start


def ok(result: Any, timer: Timer) -> JSONResponse:
    return JSONResponse({"result": result, "status": "ok", "time": timer.elapsed()})


def error(status_code: int, message: str, elapsed: float = 0.0) -> JSONResponse:
    return JSONResponse({"status": {"error": message}, "time": elapsed}, status_code=status_code)
