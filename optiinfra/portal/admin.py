"""Admin-only routes (``X-Admin-Token``): the workload simulator's fault injection, proxied.

The workload publishes no port; this proxy is how the harness injects faults.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from ..common.edge import SafeText
from ..common.models import FaultCreate, FaultsPublic
from .routes import ADMIN_ERRORS, portal, require_admin

router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)], tags=["admin"],
                   responses=ADMIN_ERRORS)


async def to_workload(request: Request, method: str, path: str, **kw: object) -> Response:
    p = portal(request)
    try:
        r = await p.workload.request(method, path, headers={
            "X-Admin-Token": p.settings.admin_token}, **kw)
    except httpx.TransportError as e:
        raise HTTPException(503, f"workload unavailable: {type(e).__name__}") from e
    return Response(r.content, r.status_code, media_type="application/json")


@router.get("/faults", response_model=FaultsPublic)
async def list_faults(request: Request) -> Response:
    return await to_workload(request, "GET", "/admin/faults")


@router.put("/faults", response_model=FaultsPublic)
async def put_fault(body: FaultCreate, request: Request) -> Response:
    return await to_workload(request, "PUT", "/admin/faults", json=body.model_dump(mode="json"))


@router.delete("/faults")
async def clear_faults(request: Request,
                       customer_id: Annotated[SafeText | None, Query(max_length=64)] = None
                       ) -> Response:
    params = {"customer_id": customer_id} if customer_id else {}
    return await to_workload(request, "DELETE", "/admin/faults", params=params)


@router.get("/workload")
async def workload_state(request: Request) -> Response:
    return await to_workload(request, "GET", "/admin/state")
