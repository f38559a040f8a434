"""Error responses shared by the HTTP services: always ``{"detail": ...}``."""

from __future__ import annotations

import logging

import psycopg
import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from .edge import DEFAULT_MAX_BODY_BYTES, install_edge

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
    install_edge(app, max_body_bytes)

    @app.exception_handler(PoolTimeout)
    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(_r: Request, e: Exception) -> JSONResponse:
        log.warning("postgres unavailable: %s", e)
        return JSONResponse({"detail": "postgres unavailable, retry later"}, status_code=503)

    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    async def _redis_down(_r: Request, e: Exception) -> JSONResponse:
        log.warning("redis unavailable: %s", e)
        return JSONResponse({"detail": "redis unavailable, retry later"}, status_code=503)
