"""Workload HTTP API: health, and the admin-only fault injection. Not published on the host:
the harness reaches it through the portal's ``/admin/faults`` proxy."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Header, HTTPException

from ..common.aws import Ec2
from ..common.edge import install_edge
from ..common.metrics import Metrics
from ..common.models import FaultCreate, FaultPublic, FaultsPublic
from ..common.redis_clients import sync_client
from ..common.settings import Settings
from .model import Fault, FaultBook
from .simulator import Simulator

log = logging.getLogger(__name__)


def create_app(settings: Settings, simulator: Simulator | None = None,
               faults: FaultBook | None = None, run_loop: bool = True) -> FastAPI:
    faults = faults or FaultBook()
    if simulator is None:
        ec2 = Ec2(settings.aws_endpoint_url, settings.aws_access_key_id,
                  settings.aws_secret_access_key)
        rds = sync_client(settings.redis_url)
        simulator = Simulator(ec2, Metrics(settings.clickhouse_host, settings.clickhouse_port),
                              rds, settings.regions, faults,
                              inventory_every_s=settings.workload_inventory_s)

    async def loop() -> None:
        tick, next_at = settings.workload_tick_s, time.monotonic()
        while True:
            try:
                await asyncio.to_thread(simulator.tick)
            except Exception as e:  # noqa: BLE001 - the simulator outlives datastore restarts
                simulator.last_error = f"{type(e).__name__}: {e}"
                log.warning("tick failed: %s", simulator.last_error)
            next_at = max(next_at + tick, time.monotonic())
            await asyncio.sleep(next_at - time.monotonic())

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        stop = threading.Event()
        task = None
        if run_loop:
            threading.Thread(target=simulator.inventory_forever, args=(stop,), daemon=True,
                             name="inventory").start()
            task = asyncio.create_task(loop())
        yield
        stop.set()
        if task:
            task.cancel()

    app = FastAPI(title="OptiInfra workload simulator", version="0.1.0", lifespan=lifespan)
    install_edge(app, settings.max_body_bytes)

    def admin(x_admin_token: str | None = Header(None)) -> None:
        if x_admin_token is None:
            raise HTTPException(401, "admin token required (X-Admin-Token)")
        if x_admin_token != settings.admin_token:
            raise HTTPException(403, "invalid admin token")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> dict:
        if simulator.last_tick is None or simulator.last_error:
            raise HTTPException(503, f"simulator not ticking: {simulator.last_error}")
        return {"status": "ready", "last_tick": simulator.last_tick.isoformat()}

    @app.get("/admin/state", dependencies=[Depends(admin)])
    def state() -> dict:
        return {"last_tick": simulator.last_tick, "last_error": simulator.last_error,
                "inventory_error": simulator.inventory_error,
                "samples_written": simulator.samples_written}

    def public() -> FaultsPublic:
        now = faults.clock()
        data = [FaultPublic(customer_id=c, pool=p, variant=v, quality_drop=f.quality_drop,
                            added_latency_ms=f.added_latency_ms, error_rate=f.error_rate,
                            demand_multiplier=f.demand_multiplier,
                            from_traffic_pct=f.from_traffic_pct,
                            expires_in_s=None if f.expires_at is None
                            else round(f.expires_at - now, 1))
                for (c, p, v), f in faults.active()]
        return FaultsPublic(data=data, count=len(data))

    @app.get("/admin/faults", dependencies=[Depends(admin)])
    def list_faults() -> FaultsPublic:
        return public()

    @app.put("/admin/faults", dependencies=[Depends(admin)])
    def put_fault(body: FaultCreate) -> FaultsPublic:
        expires = None if body.duration_s is None else faults.clock() + body.duration_s
        faults.set(body.customer_id, body.pool, body.variant,
                   Fault(body.quality_drop, body.added_latency_ms, body.error_rate, expires,
                         body.demand_multiplier, body.from_traffic_pct))
        return public()

    @app.delete("/admin/faults", dependencies=[Depends(admin)])
    def clear_faults(customer_id: str | None = None) -> dict:
        return {"cleared": faults.clear(customer_id)}

    return app
