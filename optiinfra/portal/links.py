"""The customer workflow as OpenAPI links: what an answer gives the next call.

customer -> discovery -> analysis -> recommendation -> approval -> optimization, plus the
ways back (an optimization's recommendation, a recommendation's analysis) and the lists'
first entries. Clients and the security lane's stateful fuzzing (schemathesis follows the
links) read them from ``/openapi.json``; ``tests/platform/test_openapi_links.py`` holds every
link to a real operationId and real parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


@dataclass(frozen=True)
class Link:
    source: str  # operationId whose answer feeds the link
    status: int  # ... with this status
    name: str
    target: str  # operationId to call next
    description: str
    parameters: dict[str, str] = field(default_factory=dict)
    request_body: dict[str, Any] | None = None


LINKS = (
    Link("create_customer", 201, "DiscoverAsTheNewCustomer", "discover",
         "the token shown once authenticates the new customer's discovery",
         {"header.Authorization": "Bearer {$response.body#/api_token}"}),
    Link("discover", 200, "AnalyseTheDiscoveredRegion", "create_analysis",
         "a cost analysis of the region just discovered",
         request_body={"kind": "cost", "region": "$response.body#/region"}),
    Link("create_analysis", 202, "GetAnalysis", "get_analysis", "the analysis just accepted",
         {"path.analysis_id": "$response.body#/id"}),
    Link("get_analysis", 200, "GetFirstRecommendation", "get_recommendation",
         "the analysis' first recommendation",
         {"path.rec_id": "$response.body#/recommendation_ids/0"}),
    Link("get_analysis", 200, "AuditTrailOfAnalysis", "audit", "the analysis' audit trail",
         {"query.entity_id": "$response.body#/id"}),
    Link("list_recommendations", 200, "GetListedRecommendation", "get_recommendation",
         "the newest recommendation listed", {"path.rec_id": "$response.body#/data/0/id"}),
    Link("list_recommendations", 200, "ApproveListedRecommendation", "approve",
         "approve the newest recommendation listed",
         {"path.rec_id": "$response.body#/data/0/id"}),
    Link("get_recommendation", 200, "ApproveRecommendation", "approve",
         "approve it (202 once validated, else 409)", {"path.rec_id": "$response.body#/id"}),
    Link("get_recommendation", 200, "RejectRecommendation", "reject", "reject it",
         {"path.rec_id": "$response.body#/id"}),
    Link("get_recommendation", 200, "GetAnalysisOfRecommendation", "get_analysis",
         "the analysis that proposed it", {"path.analysis_id": "$response.body#/analysis_id"}),
    Link("get_recommendation", 200, "GetOptimizationOfRecommendation", "get_optimization",
         "the optimization its approval started (null before)",
         {"path.opt_id": "$response.body#/optimization_id"}),
    Link("reject", 200, "GetRejectedRecommendation", "get_recommendation",
         "the recommendation just rejected", {"path.rec_id": "$response.body#/id"}),
    Link("approve", 202, "GetOptimization", "get_optimization",
         "the optimization the approval started",
         {"path.opt_id": "$response.body#/optimization_id"}),
    Link("approve", 202, "RollBackOptimization", "rollback",
         "roll back the optimization the approval started",
         {"path.opt_id": "$response.body#/optimization_id"}),
    Link("list_optimizations", 200, "GetListedOptimization", "get_optimization",
         "the newest optimization listed", {"path.opt_id": "$response.body#/data/0/id"}),
    Link("get_optimization", 200, "RollBackThisOptimization", "rollback", "roll it back",
         {"path.opt_id": "$response.body#/id"}),
    Link("get_optimization", 200, "GetRecommendationOfOptimization", "get_recommendation",
         "the recommendation it carries out",
         {"path.rec_id": "$response.body#/recommendation_id"}),
    Link("rollback", 202, "GetRolledBackOptimization", "get_optimization",
         "the optimization being rolled back", {"path.opt_id": "$response.body#/id"}),
)


def operation_id(route: APIRoute) -> str:
    """The route function's name (``create_analysis``), not FastAPI's path-derived default:
    links and clients name operations by it."""
    return route.name


def add_links(spec: dict[str, Any], links: tuple[Link, ...] = LINKS) -> dict[str, Any]:
    """``spec`` with each link under its source's response; a source or a status the
    document does not have is an error (a link must never dangle at its start)."""
    by_id = {op.get("operationId"): op for ops in spec["paths"].values()
             for op in ops.values() if isinstance(op, dict)}
    for link in links:
        if link.source not in by_id:
            raise LookupError(f"link {link.name}: no operation {link.source!r} in the OpenAPI")
        response = by_id[link.source].get("responses", {}).get(str(link.status))
        if response is None:
            raise LookupError(f"link {link.name}: {link.source} documents no {link.status}")
        entry: dict[str, Any] = {"operationId": link.target, "description": link.description}
        if link.parameters:
            entry["parameters"] = dict(link.parameters)
        if link.request_body is not None:
            entry["requestBody"] = dict(link.request_body)
        response.setdefault("links", {})[link.name] = entry
    return spec


def install_links(app: FastAPI) -> None:
    """Serve the links in ``/openapi.json`` (FastAPI builds the document once and caches it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_links(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
