"""The customer API (``/api/v1``): authenticate, validate, forward to the orchestrator.

Bodies are validated here (422 with field errors) and by the orchestrator again; answers
come back unchanged, so both services speak the same contract.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

import httpx
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..common.edge import (
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
    CustomerCreate,
    CustomerPublic,
    DecisionRequest,
    DiscoverRequest,
    Inventory,
    MetricsSummary,
    OptimizationPublic,
    OptimizationsPublic,
    PatternsPublic,
    RecommendationPublic,
    RecommendationsPublic,
    RollbackAccepted,
    SavingsReportPublic,
)

bearer = HTTPBearer(auto_error=False, description="the customer's api_token")
log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1")
ERRORS = {401: {"description": "no or unknown token"}, 404: {"description": "not found"},
          413: {"description": "request body over MAX_BODY_BYTES"},
          422: {"description": "invalid request"},
          502: {"description": "an agent failed"}, 503: {"description": "a dependency is down"},
          504: {"description": "an agent did not answer in time"}}
ADMIN_ERRORS = {401: {"description": "no admin token"}, 403: {"description": "wrong admin token"},
                413: ERRORS[413], 422: ERRORS[422], 503: ERRORS[503]}


def portal(request: Request):  # the app's wiring (see app.py)
    return request.app.state.portal


async def current_customer(
        request: Request,
        cred: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    if cred is None or cred.scheme.lower() != "bearer":
        raise HTTPException(401, "bearer token required", {"WWW-Authenticate": "Bearer"})
    cid = await portal(request).customers.by_token(cred.credentials)
    if cid is None:
        raise HTTPException(401, "invalid token", {"WWW-Authenticate": "Bearer"})
    return cid


def require_admin(request: Request,
                  x_admin_token: Annotated[str | None, Header()] = None) -> None:
    if x_admin_token is None:
        raise HTTPException(401, "admin token required (X-Admin-Token)")
    if x_admin_token != portal(request).settings.admin_token:
        raise HTTPException(403, "invalid admin token")


Customer = Annotated[str, Depends(current_customer)]
Region = Literal[KNOWN_REGIONS]  # type: ignore[valid-type]
RecommendationStatus = Literal["pending", "validated", "rejected", "approved", "superseded"]


async def forward(request: Request, cid: str, method: str, path: str,
                  body: object = None, params: dict | None = None) -> Response:
    p = portal(request)
    # A GET is safe to send again: one retry covers a pooled connection that broke in transit.
    attempts = 2 if method == "GET" else 1
    failure: httpx.TransportError | None = None
    for _ in range(attempts):
        try:
            r = await p.orchestrator.request(
                method, "/v1" + path, json=body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers={"X-Admin-Token": p.settings.admin_token, "X-Customer-Id": cid})
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ConnectError) as e:
            failure = e
            log.warning("%s %s to the orchestrator: %r", method, path, e)
            continue
        except httpx.TransportError as e:
            failure = e
            break
        return Response(r.content, r.status_code, media_type="application/json")
    raise HTTPException(503, f"orchestrator unavailable: {type(failure).__name__}") from failure


def dump(model: object) -> object:
    return model.model_dump(mode="json") if model is not None else None  # type: ignore[attr-defined]


@router.post("/customers", status_code=201, response_model=CustomerPublic,
             dependencies=[Depends(require_admin)], tags=["customers"], responses=ADMIN_ERRORS)
async def create_customer(body: CustomerCreate, request: Request) -> CustomerPublic:
    return await portal(request).customers.create(body.name)


@router.get("/me", tags=["customers"], responses=ERRORS)
async def me(cid: Customer, request: Request) -> dict:
    row = await portal(request).customers.get(cid)
    return {"id": row["id"], "name": row["name"], "created_at": row["created_at"]}


@router.post("/infrastructure/discover", response_model=Inventory, responses=ERRORS,
             tags=["infrastructure"])
async def discover(body: DiscoverRequest, cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "POST", "/infrastructure/discover", dump(body))


@router.get("/costs", response_model=CostsPublic, responses=ERRORS, tags=["infrastructure"])
async def costs(cid: Customer, request: Request, region: Region = "us-east-1") -> Response:
    return await forward(request, cid, "GET", "/costs", params={"region": region})


@router.post("/analyses", status_code=202, response_model=AnalysisAccepted, responses=ERRORS,
             tags=["analyses"])
async def create_analysis(body: AnalysisCreate, cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "POST", "/analyses", dump(body))


@router.get("/analyses/{analysis_id}", response_model=AnalysisPublic, responses=ERRORS,
            tags=["analyses"])
async def get_analysis(analysis_id: AnalysisId, cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "GET", f"/analyses/{analysis_id}")


@router.get("/recommendations", response_model=RecommendationsPublic, responses=ERRORS,
            tags=["recommendations"])
async def list_recommendations(cid: Customer, request: Request,
                               status: RecommendationStatus | None = None,
                               kind: KindQuery = None,
                               limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Response:
    return await forward(request, cid, "GET", "/recommendations",
                         params={"status": status, "kind": kind, "limit": limit})


@router.get("/recommendations/{rec_id}", response_model=RecommendationPublic, responses=ERRORS,
            tags=["recommendations"])
async def get_recommendation(rec_id: RecommendationId, cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "GET", f"/recommendations/{rec_id}")


@router.post("/recommendations/{rec_id}/approve", status_code=202,
             response_model=ApproveAccepted, tags=["recommendations"],
             responses={**ERRORS, 409: {"description": "not validated, or already decided"}})
async def approve(rec_id: RecommendationId, cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "POST", f"/recommendations/{rec_id}/approve")


@router.post("/recommendations/{rec_id}/reject", response_model=RecommendationPublic,
             tags=["recommendations"],
             responses={**ERRORS, 409: {"description": "already decided"}})
async def reject(rec_id: RecommendationId, cid: Customer, request: Request,
                 body: DecisionRequest | None = None) -> Response:
    return await forward(request, cid, "POST", f"/recommendations/{rec_id}/reject", dump(body))


@router.get("/optimizations", response_model=OptimizationsPublic, responses=ERRORS,
            tags=["optimizations"])
async def list_optimizations(cid: Customer, request: Request,
                             limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Response:
    return await forward(request, cid, "GET", "/optimizations", params={"limit": limit})


@router.get("/optimizations/{opt_id}", response_model=OptimizationPublic, responses=ERRORS,
            tags=["optimizations"])
async def get_optimization(opt_id: OptimizationId, cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "GET", f"/optimizations/{opt_id}")


@router.post("/optimizations/{opt_id}/rollback", status_code=202,
             response_model=RollbackAccepted, tags=["optimizations"],
             responses={**ERRORS, 409: {"description": "already finished"}})
async def rollback(opt_id: OptimizationId, cid: Customer, request: Request,
                   body: DecisionRequest | None = None) -> Response:
    return await forward(request, cid, "POST", f"/optimizations/{opt_id}/rollback", dump(body))


@router.get("/catalogue", responses=ERRORS, tags=["costs"])
async def catalogue(cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "GET", "/catalogue")


@router.get("/reports/savings", response_model=SavingsReportPublic, responses=ERRORS,
            tags=["reports"])
async def savings_report(cid: Customer, request: Request,
                         region: Region = "us-east-1") -> Response:
    return await forward(request, cid, "GET", "/reports/savings", params={"region": region})


@router.get("/metrics/summary", response_model=MetricsSummary, responses=ERRORS,
            tags=["metrics"])
async def metrics_summary(cid: Customer, request: Request,
                          window: Annotated[int, Query(ge=1, le=86_400)] = 300) -> Response:
    return await forward(request, cid, "GET", "/metrics/summary", params={"window": window})


@router.get("/patterns", response_model=PatternsPublic, responses=ERRORS, tags=["learning"])
async def patterns(cid: Customer, request: Request) -> Response:
    return await forward(request, cid, "GET", "/patterns")


@router.get("/audit", response_model=AuditPublic, responses=ERRORS, tags=["audit"])
async def audit(cid: Customer, request: Request, entity_id: EntityIdQuery = None,
                limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> Response:
    return await forward(request, cid, "GET", "/audit",
                         params={"entity_id": entity_id, "limit": limit})
