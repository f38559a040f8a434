"""The orchestrator's HTTP API: the portal's contract, per customer, behind the admin token.

The portal authenticates customers and calls these routes with ``X-Customer-Id``; the paths
mirror the portal's ``/api/v1`` paths under ``/v1``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request

from ..common.edge import (
    UUID_PATTERN,
    AnalysisId,
    EntityIdQuery,
    KindQuery,
    OptimizationId,
    RecommendationId,
)
from ..common.models import (
    KNOWN_REGIONS,
    AnalysisAccepted,
    AnalysisCreate,
    AnalysisPublic,
    ApproveAccepted,
    AuditPublic,
    CostsPublic,
    DecisionRequest,
    DiscoverRequest,
    Inventory,
    MetricsSummary,
    OptimizationPublic,
    OptimizationsPublic,
    PatternPublic,
    PatternsPublic,
    RecommendationPublic,
    RecommendationsPublic,
    RollbackAccepted,
    SavingsReportPublic,
)
from ..common.pricing import Catalogue
from ..common.reports import savings_report
from . import store

RecommendationStatus = Literal["pending", "validated", "rejected", "approved", "superseded"]


def services(request: Request):  # the app's wiring (see app.py)
    return request.app.state.services


def admin(request: Request, x_admin_token: Annotated[str | None, Header()] = None) -> None:
    """Every /v1 route: the orchestrator trusts only callers holding the admin token."""
    if x_admin_token is None:
        raise HTTPException(401, "admin token required (X-Admin-Token)")
    if x_admin_token != services(request).settings.admin_token:
        raise HTTPException(403, "invalid admin token")


async def customer(request: Request,
                   x_customer_id: Annotated[str | None, Header()] = None) -> str:
    svc = services(request)
    if not x_customer_id:
        raise HTTPException(400, "X-Customer-Id header required")
    if not re.match(UUID_PATTERN, x_customer_id):
        raise HTTPException(400, "X-Customer-Id must be a customer id (UUID)")
    async with svc.db.tx() as conn:
        if not await store.customer_exists(conn, x_customer_id):
            raise HTTPException(404, f"customer {x_customer_id} not found")
    return x_customer_id


Customer = Annotated[str, Depends(customer)]
ERRORS: dict[int | str, dict] = {
    400: {"description": "X-Customer-Id missing or not a UUID"},
    401: {"description": "no admin token"}, 403: {"description": "wrong admin token"},
    404: {"description": "no such customer or entity"},
    413: {"description": "request body over MAX_BODY_BYTES"},
    502: {"description": "an agent failed"}, 503: {"description": "a dependency is down"},
    504: {"description": "an agent did not answer in time"}}
router = APIRouter(prefix="/v1", dependencies=[Depends(admin)], responses=ERRORS)
Region = Literal[KNOWN_REGIONS]  # type: ignore[valid-type]


async def _inventory(request: Request, cid: str, region: str) -> dict:
    """The customer's live fleet in ``region``, priced, as the cost agent discovers it."""
    svc = services(request)
    return await svc.dispatcher.call("cost", "discover", cid, {"region": region},
                                     svc.settings.rpc_timeout_s)


@router.post("/infrastructure/discover", response_model=Inventory)
async def discover(body: DiscoverRequest, cid: Customer, request: Request) -> dict:
    return await _inventory(request, cid, body.region)


@router.get("/costs", response_model=CostsPublic)
async def costs(cid: Customer, request: Request, region: Region = "us-east-1") -> CostsPublic:
    inv = await _inventory(request, cid, region)
    return CostsPublic(monthly_cost=inv["monthly_cost"], currency=inv["currency"],
                       region=region, instance_count=len(inv["instances"]),
                       by_lifecycle=inv["by_lifecycle"], catalogue=inv["catalogue"])


@router.get("/catalogue")
async def catalogue() -> dict:
    """The price catalogue every figure is computed from, with its sources and dates."""
    return Catalogue.load().raw


@router.get("/reports/savings", response_model=SavingsReportPublic)
async def savings(cid: Customer, request: Request, region: Region = "us-east-1") -> dict:
    inv = await _inventory(request, cid, region)
    async with services(request).db.tx() as conn:
        rows = await store.savings_rows(conn, cid)
    return {**savings_report(rows, inv["monthly_cost"], inv["currency"]), "region": region}


@router.post("/analyses", status_code=202, response_model=AnalysisAccepted)
async def create_analysis(body: AnalysisCreate, cid: Customer, request: Request) -> dict:
    aid = await services(request).workflow.create_analysis(cid, body.kind, body.region,
                                                           body.clouds)
    return {"id": aid, "status": "pending"}


@router.get("/analyses/{analysis_id}", response_model=AnalysisPublic)
async def get_analysis(analysis_id: AnalysisId, cid: Customer, request: Request) -> AnalysisPublic:
    async with services(request).db.tx() as conn:
        return await store.analysis(conn, cid, analysis_id)


@router.get("/recommendations", response_model=RecommendationsPublic)
async def list_recommendations(cid: Customer, request: Request,
                               status: RecommendationStatus | None = None,
                               kind: KindQuery = None,
                               limit: Annotated[int, Query(ge=1, le=500)] = 200) -> dict:
    async with services(request).db.tx() as conn:
        data = await store.recommendations(conn, cid, status, kind, limit=limit)
    return {"data": data, "count": len(data)}


@router.get("/recommendations/{rec_id}", response_model=RecommendationPublic)
async def get_recommendation(rec_id: RecommendationId, cid: Customer,
                             request: Request) -> RecommendationPublic:
    async with services(request).db.tx() as conn:
        return await store.recommendation(conn, cid, rec_id)


@router.post("/recommendations/{rec_id}/approve", status_code=202,
             response_model=ApproveAccepted)
async def approve(rec_id: RecommendationId, cid: Customer, request: Request) -> dict:
    svc = services(request)
    opt_id = await svc.workflow.approve(cid, rec_id)
    svc.rollouts.start(opt_id)
    return {"optimization_id": opt_id, "status": "pending"}


@router.post("/recommendations/{rec_id}/reject", response_model=RecommendationPublic)
async def reject(rec_id: RecommendationId, cid: Customer, request: Request,
                 body: DecisionRequest | None = None) -> RecommendationPublic:
    svc = services(request)
    await svc.workflow.reject(cid, rec_id, body.reason if body else None)
    async with svc.db.tx() as conn:
        return await store.recommendation(conn, cid, rec_id)


@router.get("/optimizations", response_model=OptimizationsPublic)
async def list_optimizations(cid: Customer, request: Request,
                             limit: Annotated[int, Query(ge=1, le=500)] = 200) -> dict:
    async with services(request).db.tx() as conn:
        data = await store.optimizations(conn, cid, limit=limit)
    return {"data": data, "count": len(data)}


@router.get("/optimizations/{opt_id}", response_model=OptimizationPublic)
async def get_optimization(opt_id: OptimizationId, cid: Customer,
                           request: Request) -> OptimizationPublic:
    async with services(request).db.tx() as conn:
        return await store.optimization(conn, cid, opt_id)


@router.post("/optimizations/{opt_id}/rollback", status_code=202,
             response_model=RollbackAccepted)
async def rollback(opt_id: OptimizationId, cid: Customer, request: Request,
                   body: DecisionRequest | None = None) -> dict:
    svc = services(request)
    status = await svc.workflow.request_rollback(cid, opt_id, body.reason if body else None)
    svc.rollouts.start(opt_id)  # a no-op when its driver runs; wakes it from a hold
    svc.rollouts.wake(opt_id)
    return {"id": opt_id, "status": status,
            "rollback_requested": (body.reason if body and body.reason else
                                   "rollback requested by customer")}


@router.get("/metrics/summary", response_model=MetricsSummary)
async def metrics_summary(cid: Customer, request: Request,
                          window: Annotated[int, Query(ge=1, le=86_400)] = 300) -> dict:
    got = await asyncio.to_thread(services(request).metrics.summary, cid, window)
    return {"window": window, **got}


@router.get("/patterns", response_model=PatternsPublic)
async def patterns(cid: Customer, request: Request) -> dict:
    data = await asyncio.to_thread(services(request).patterns.for_customer, cid)
    return {"data": [PatternPublic(**p) for p in data], "count": len(data)}


@router.get("/audit", response_model=AuditPublic)
async def audit(cid: Customer, request: Request, entity_id: EntityIdQuery = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> dict:
    async with services(request).db.tx() as conn:
        data = await store.audit_entries(conn, cid, entity_id, limit)
    return {"data": data, "count": len(data)}
