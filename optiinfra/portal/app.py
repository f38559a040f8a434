"""Portal wiring: customers in Postgres, events from Redis, the orchestrator over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import redis.asyncio as aredis
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from ..common.db import Database
from ..common.errors import install_error_handlers
from ..common.messages import Event
from ..common.redis_clients import async_client
from ..common.settings import Settings
from . import admin, routes, web
from .customers import Customers
from .events import EventHub
from .links import install_links, operation_id

log = logging.getLogger(__name__)


@dataclass
class Portal:
    settings: Settings
    db: Database
    redis: aredis.Redis
    customers: Customers
    hub: EventHub
    orchestrator: httpx.AsyncClient
    workload: httpx.AsyncClient


def build_portal(settings: Settings) -> Portal:
    db = Database(settings.postgres_dsn)
    rds = async_client(settings.redis_url)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    timeout = httpx.Timeout(settings.rpc_timeout_s + 15, connect=5)
    return Portal(settings, db, rds, Customers(db), EventHub(rds),
                  httpx.AsyncClient(base_url=settings.orchestrator_url, timeout=timeout,
                                    limits=limits),
                  httpx.AsyncClient(base_url=settings.workload_url, timeout=timeout))


async def _schema(db: Database) -> None:
    for attempt in range(60):
        try:
            await db.ensure_schema()
            return
        except Exception as e:  # noqa: BLE001 - start-up waits for Postgres
            log.warning("postgres not ready (%s); retry %d", e, attempt + 1)
            await asyncio.sleep(1)
    raise RuntimeError("postgres never became ready")


def create_app(settings: Settings, p: Portal | None = None, start_loops: bool = True) -> FastAPI:
    p = p or build_portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        hub_task = None
        if start_loops:
            await p.db.open()
            await _schema(p.db)
            hub_task = asyncio.create_task(p.hub.run())
        yield
        if hub_task:
            hub_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hub_task
        await p.orchestrator.aclose()
        await p.workload.aclose()
        if start_loops:
            await p.db.close()
            await p.redis.aclose()

    app = FastAPI(
        title="OptiInfra portal", version="0.1.0", lifespan=lifespan,
        generate_unique_id_function=operation_id,
        description="Customer API of OptiInfra. `Authorization: Bearer <api_token>` on every "
                    "/api/v1 call except customer creation (`X-Admin-Token`). Events: "
                    "`WS /ws/events?token=<api_token>`.")
    app.state.portal = p
    install_error_handlers(app, settings.max_body_bytes)

    @app.get("/health", tags=["health"])
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready", tags=["health"])
    async def ready() -> JSONResponse:
        checks = {"postgres": await p.db.ping(), "events": p.hub.healthy}
        try:
            checks["redis"] = bool(await p.redis.ping())
        except Exception:  # noqa: BLE001 - reported as not ready
            checks["redis"] = False
        try:
            checks["orchestrator"] = (await p.orchestrator.get("/health", timeout=2)).is_success
        except httpx.HTTPError:
            checks["orchestrator"] = False
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)

    @app.websocket("/ws/events")
    async def events(ws: WebSocket, token: str | None = None) -> None:
        """One JSON event per message, only the token's customer's. The first message,
        ``{"type": "connected"}``, says the subscription is live."""
        cid = await p.customers.by_token(token) if token else None
        if cid is None:
            await ws.close(code=1008, reason="invalid or missing token")
            return
        await ws.accept()
        queue = p.hub.subscribe(cid)

        async def drain_client() -> None:
            while True:  # clients send nothing we need; this notices them leaving
                await ws.receive_text()

        reader = asyncio.create_task(drain_client())
        try:
            hello = Event(type="connected", customer_id=cid, entity_id=cid)
            await ws.send_text(hello.model_dump_json())
            while not reader.done():
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader},
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    await ws.send_text(getter.result())
                else:
                    getter.cancel()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            reader.cancel()
            p.hub.unsubscribe(cid, queue)

    app.include_router(routes.router)
    app.include_router(admin.router)
    app.include_router(web.router)  # the web pages (not in the OpenAPI document)
    install_links(app)
    return app
