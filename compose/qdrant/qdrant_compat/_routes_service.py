"""Version and health endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

# qdrant-client warns unless major versions match and minors differ by at most one;
# the harness pins qdrant-client 1.20.x.
SERVER_VERSION = "1.20.0"

router = APIRouter()


@router.get("/")
def root() -> JSONResponse:
    return JSONResponse(
        {"title": "qdrant - vector search engine", "version": SERVER_VERSION, "commit": None}
    )


# Real Qdrant answers these in plain text; JSON keeps every answer of this service parseable.
@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"title": "healthz check passed"})


@router.get("/livez")
def livez() -> JSONResponse:
    return JSONResponse({"title": "healthz check passed"})


@router.get("/readyz")
def readyz() -> JSONResponse:
    # Collections load before uvicorn accepts connections, so answering means ready.
    return JSONResponse({"title": "all shards are ready"})
