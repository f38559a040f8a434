"""Pydantic models of the portal contract (DESIGN.md "Platform contract").

Responses allow extra fields (the platform may extend the contract); requests forbid them.
Names follow XCreate / XPublic / XsPublic{data,count}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AnalysisKind = Literal["cost", "performance", "resource", "application", "full"]
OptimizationState = Literal["pending", "running", "completed", "rolled_back", "failed"]
TERMINAL_OPTIMIZATION_STATES = ("completed", "rolled_back", "failed")


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerCreate(_Request):
    name: str


class CustomerPublic(_Response):
    id: str
    name: str
    api_token: str = Field(repr=False)


class DiscoverRequest(_Request):
    provider: Literal["aws"] = "aws"
    region: str = "us-east-1"


class Instance(_Response):
    instance_id: str | None = None
    instance_type: str | None = None
    lifecycle: str | None = None
    state: str | None = None


class DiscoveryPublic(_Response):
    instances: list[dict[str, Any]]
    monthly_cost: float


class CostPublic(_Response):
    monthly_cost: float
    currency: str = "USD"


class AnalysisCreate(_Request):
    kind: AnalysisKind


class AnalysisPublic(_Response):
    id: str
    status: str
    kind: str | None = None


class Validation(_Response):
    agent: str
    verdict: Literal["approve", "reject"]
    reason: str = ""


class RecommendationPublic(_Response):
    id: str
    kind: str
    status: str
    estimated_monthly_savings: float = 0.0
    confidence: float = 0.0
    validations: list[Validation] = Field(default_factory=list)
    similar_patterns: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def approving_agents(self) -> list[str]:
        return sorted({v.agent for v in self.validations if v.verdict == "approve"})


class RecommendationsPublic(_Response):
    data: list[RecommendationPublic]
    count: int


class ApprovalPublic(_Response):
    optimization_id: str


class OptimizationStep(_Response):
    name: str
    status: str
    traffic_pct: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class OptimizationPublic(_Response):
    id: str
    status: OptimizationState
    steps: list[OptimizationStep] = Field(default_factory=list)
    predicted_monthly_savings: float | None = None
    actual_monthly_savings: float | None = None
    quality_score: float | None = None
    reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_OPTIMIZATION_STATES


class MetricsSummary(_Response):
    latency_p95_ms: float | None = None
    quality_score: float | None = None
    throughput_rps: float | None = None
    error_rate: float | None = None


class PatternPublic(_Response):
    id: str
    collection: str


class PatternsPublic(_Response):
    data: list[PatternPublic]


class AuditEntry(_Response):
    entity_id: str | None = None


class AuditPublic(_Response):
    data: list[AuditEntry]


class Event(_Response):
    type: str
    customer_id: str | None = None
    entity_id: str | None = None
    at: datetime | str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
