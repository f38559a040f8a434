"""The FastAPI application: routes, Qdrant-shaped errors, storage lifecycle."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from . import _routes_collections, _routes_points, _routes_read, _routes_service
from ._errors import ApiError, from_errors
from ._responses import error
from ._storage import Storage

log = logging.getLogger("qdrant_compat")


def create_app(storage_path: str | Path) -> FastAPI:
    storage = Storage(Path(storage_path))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage.open()  # before the first request: /readyz means loaded
        app.state.storage = storage
        try:
            yield
        finally:
            storage.close()  # flushes every shard

    # No docs routes: real Qdrant has none, and unknown paths must answer 404.
    app = FastAPI(
        title="qdrant_compat", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    for module in (_routes_service, _routes_collections, _routes_points, _routes_read):
        app.include_router(module.router)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Bodies are parsed by _body.py; what lands here is a bad query or path parameter.
        errors = list(exc.errors())
        where = (
            "path parameters" if errors and errors[0]["loc"][0] == "path" else "query parameters"
        )
        # Drop the leading "query"/"path" from each location.
        mapped = from_errors([{**e, "loc": tuple(e["loc"][1:])} for e in errors], where)
        return error(mapped.status_code, mapped.message)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error(500, f"Service internal error: {type(exc).__name__}: {exc}")
