"""Orchestrator wiring: datastores, the bus loops, rollouts, HTTP API."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import redis.asyncio as aredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..common.db import Database
from ..common.domain import DomainError, IllegalTransition
from ..common.errors import install_error_handlers
from ..common.metrics import Metrics
from ..common.patterns import PatternStore
from ..common.redis_clients import async_client
from ..common.settings import Settings
from .api import router
from .dispatcher import AgentError, AgentTimeout, Dispatcher
from .rollout import Rollouts
from .store import NotFound
from .workflow import Workflow

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: aredis.Redis
    metrics: Metrics
    patterns: PatternStore
    dispatcher: Dispatcher
    workflow: Workflow
    rollouts: Rollouts
    loops: list[asyncio.Task] = field(default_factory=list)


def build_services(settings: Settings) -> Services:
    db = Database(settings.postgres_dsn, max_size=20)
    rds = async_client(settings.redis_url)
    dispatcher = Dispatcher(db, rds, settings.task_claim_idle_ms)
    workflow = Workflow(db, settings.quality_threshold, dispatcher.kick)
    dispatcher.handler = workflow.handle_result
    patterns = PatternStore(settings.qdrant_url, settings.patterns_collection)
    return Services(settings, db, rds, Metrics(settings.clickhouse_host, settings.clickhouse_port),
                    patterns, dispatcher, workflow,
                    Rollouts(db, rds, dispatcher, patterns, settings))


async def _retry(what: str, fn, attempts: int = 60) -> None:
    for i in range(attempts):
        try:
            await fn()
            return
        except Exception as e:  # noqa: BLE001 - start-up waits for its datastores
            log.warning("%s not ready (%s); retry %d", what, e, i + 1)
            await asyncio.sleep(1)
    raise RuntimeError(f"{what} never became ready")


def create_app(settings: Settings, svc: Services | None = None,
               start_loops: bool = True) -> FastAPI:
    svc = svc or build_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.services = svc
        if start_loops:
            await svc.db.open()
            await _retry("postgres schema", svc.db.ensure_schema)
            await _retry("clickhouse schema", lambda: asyncio.to_thread(svc.metrics.ensure_schema))
            svc.loops = [asyncio.create_task(svc.dispatcher.relay_forever()),
                         asyncio.create_task(svc.dispatcher.consume_forever())]
            await _retry("rollout resume", svc.rollouts.resume)
        yield
        await svc.rollouts.stop()
        for t in svc.loops:
            t.cancel()
        await asyncio.gather(*svc.loops, return_exceptions=True)
        if start_loops:
            await svc.db.close()
            await svc.redis.aclose()

    app = FastAPI(title="OptiInfra orchestrator", version="0.1.0", lifespan=lifespan,
                  description="Internal API behind the portal; every /v1 call needs "
                              "X-Admin-Token and X-Customer-Id.")
    app.state.services = svc
    install_error_handlers(app, settings.max_body_bytes)

    @app.exception_handler(AgentTimeout)
    async def _timeout(_r: Request, e: AgentTimeout) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=504)

    @app.exception_handler(AgentError)
    async def _agent(_r: Request, e: AgentError) -> JSONResponse:
        # The agent's own error text (a library's exception) stays in the log, not the answer.
        log.warning("%s", e)
        return JSONResponse({"detail": f"agent {e.agent} could not complete {e.task_type}; "
                                       "retry later"}, status_code=502)

    @app.exception_handler(NotFound)
    async def _nf(_r: Request, e: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(IllegalTransition)
    async def _conflict(_r: Request, e: IllegalTransition) -> JSONResponse:
        return JSONResponse({"detail": str(e), "current": e.current, "target": e.target},
                            status_code=409)

    @app.exception_handler(DomainError)
    async def _domain(_r: Request, e: DomainError) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=422)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        checks = {"postgres": await svc.db.ping()}
        try:
            checks["redis"] = bool(await svc.redis.ping())
        except Exception:  # noqa: BLE001 - reported as not ready
            checks["redis"] = False
        checks["clickhouse"] = await asyncio.to_thread(svc.metrics.ping)
        checks.update(svc.dispatcher.healthy)
        ok = all(checks.values())
        return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks},
                            status_code=200 if ok else 503)

    app.include_router(router)
    return app
