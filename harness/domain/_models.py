"""Pydantic models of the portal contract (DESIGN.md "Platform contract").

Responses allow extra fields (the platform may extend the contract); requests forbid them.
Names follow XCreate / XPublic / XsPublic{data,count}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

AnalysisKind = Literal["cost", "performance", "resource", "application", "full"]
Cloud = Literal["aws", "gcp", "azure"]
OptimizationState = Literal["pending", "running", "completed", "rolled_back", "failed"]
TERMINAL_OPTIMIZATION_STATES = ("completed", "rolled_back", "failed")


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthPublic(_Response):
    """``GET /health``: liveness."""

    status: str


class CustomerCreate(_Request):
    name: str


class CustomerPublic(_Response):
    id: str
    name: str
    api_token: str = Field(repr=False)


class MePublic(_Response):
    """``GET /api/v1/me``: the customer the token belongs to (never the token)."""

    id: str
    name: str
    created_at: datetime | None = None


class DiscoverRequest(_Request):
    provider: Literal["aws"] = "aws"
    region: str = "us-east-1"


class Instance(_Response):
    """One live EC2 instance of the customer, as discovery lists it (docs/api.md)."""

    instance_id: str
    instance_type: str
    lifecycle: str  # on-demand / spot
    pool: str  # tag optiinfra:pool, "default" without one
    state: str
    region: str
    availability_zone: str
    hourly_cost: float | None  # None: the type is not in the price catalogue


class DiscoveryPublic(_Response):
    instances: list[Instance]
    monthly_cost: float


class CostPublic(_Response):
    monthly_cost: float
    currency: str = "USD"


class AnalysisCreate(_Request):
    kind: AnalysisKind
    region: str | None = None  # None: the platform's default (us-east-1)
    # Clouds the cost agent may propose moving to (None: the platform's default, AWS only).
    clouds: list[Cloud] | None = None


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
    reason: str | None = None  # why it was rejected or superseded

    @property
    def approving_agents(self) -> list[str]:
        return sorted({v.agent for v in self.validations if v.verdict == "approve"})


class RecommendationsPublic(_Response):
    data: list[RecommendationPublic]
    count: int


class ApprovalPublic(_Response):
    optimization_id: str


class DecisionRequest(_Request):
    """The optional body of a rejection or a rollback request."""

    reason: str | None = None


class OptimizationStep(_Response):
    name: str
    status: str
    traffic_pct: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class OptimizationPublic(_Response):
    id: str
    status: OptimizationState
    recommendation_id: str | None = None
    steps: list[OptimizationStep] = Field(default_factory=list)
    predicted_monthly_savings: float | None = None
    actual_monthly_savings: float | None = None
    cost_before: float | None = None
    cost_after: float | None = None
    quality_score: float | None = None
    reason: str | None = None
    rollback_requested: str | None = None
    pattern_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_OPTIMIZATION_STATES


class OptimizationsPublic(_Response):
    data: list[OptimizationPublic]
    count: int


class RollbackAccepted(_Response):
    """``POST /api/v1/optimizations/{id}/rollback``: requested, not yet done."""

    id: str
    status: str
    rollback_requested: str


class CatalogueSource(_Response):
    source: str
    as_of: str


class CataloguePrice(_Response):
    """One AWS instance type's hourly prices in one region."""

    on_demand: float
    spot: float | None = None
    interruption: str | None = None


class CloudEquivalent(_Response):
    """An equivalent instance type on another cloud, with its hourly on-demand price."""

    cloud: str
    region: str
    instance_type: str
    on_demand: float


class CrossCloud(_Response):
    source: str
    sources: dict[str, CatalogueSource]
    egress_per_gb: float
    egress_gb_per_instance_month: float
    migration_cost_per_instance: float
    amortisation_months: int
    # region -> AWS instance type -> its equivalents on the other clouds
    equivalents: dict[str, dict[str, list[CloudEquivalent]]]


class CataloguePublic(_Response):
    """``GET /api/v1/catalogue``: the prices every cost figure is computed from."""

    source: str
    as_of: str
    currency: str
    hours_per_month: int
    # region -> AWS instance type -> prices
    regions: dict[str, dict[str, CataloguePrice]]
    cross_cloud: CrossCloud


class SavingsLine(_Response):
    id: str
    recommendation_id: str
    kind: str
    status: str
    predicted_monthly_savings: float
    actual_monthly_savings: float | None
    cost_before: float | None
    cost_after: float | None
    finished_at: datetime | None


class SavingsReportPublic(_Response):
    """``GET /api/v1/reports/savings``: promised vs realised savings and the bill now."""

    currency: str
    region: str
    optimizations: list[SavingsLine]
    counts: dict[str, int]
    by_kind: dict[str, dict[str, float]]
    predicted_monthly_savings: float
    realised_monthly_savings: float
    prediction_error: float | None
    baseline_monthly_cost: float | None
    current_monthly_cost: float
    monthly_cost_change: float | None


class MetricsSummary(_Response):
    latency_p95_ms: float | None = None
    quality_score: float | None = None
    throughput_rps: float | None = None
    error_rate: float | None = None


class PatternPublic(_Response):
    """One learning pattern: the Qdrant point id, its collection and the payload the platform
    stored with it (docs/api.md "Optimizations": one per finished spot migration)."""

    id: str
    collection: str
    customer_id: str | None = None
    optimization_id: str | None = None
    recommendation_id: str | None = None
    kind: str | None = None
    outcome: str | None = None  # completed / rolled_back
    predicted_monthly_savings: float | None = None
    actual_monthly_savings: float | None = None
    savings_pct: float | None = None
    features: dict[str, float] = Field(default_factory=dict)
    created_at: datetime | None = None


class PatternsPublic(_Response):
    data: list[PatternPublic]
    count: int


class AuditEntry(_Response):
    """One audit row of ``GET /api/v1/audit`` (docs/api.md), oldest first."""

    id: int
    entity_type: str
    entity_id: str
    action: str
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    at: datetime


class AuditPublic(_Response):
    data: list[AuditEntry]
    count: int


class Event(_Response):
    type: str
    customer_id: str | None = None
    entity_id: str | None = None
    at: datetime | str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class FaultCreate(_Request):
    """``PUT /admin/faults``: a workload fault for one customer's pool and variant.

    Bounds are the platform's to check (422): the harness may send a bad value on purpose."""

    customer_id: str
    pool: str = "*"
    variant: str = "*"
    quality_drop: float | None = None
    added_latency_ms: float | None = None
    error_rate: float | None = None
    demand_multiplier: float | None = None
    duration_s: float | None = None
    from_traffic_pct: int | None = None  # dormant until a rollout sends this % to spot


class FaultPublic(_Response):
    customer_id: str
    pool: str
    variant: str
    quality_drop: float = 0.0
    added_latency_ms: float = 0.0
    error_rate: float = 0.0
    demand_multiplier: float = 1.0
    from_traffic_pct: int = 0
    expires_in_s: float | None = None


class FaultsPublic(_Response):
    """The active faults of every customer (the workload is shared by the whole stack)."""

    data: list[FaultPublic]
    count: int

    def of(self, customer_id: str) -> list[FaultPublic]:
        return [f for f in self.data if f.customer_id == customer_id]


class FaultsCleared(_Response):
    cleared: int


class WorkloadState(_Response):
    """``GET /admin/workload``: the simulator's last tick."""

    last_tick: datetime | None = None
    last_error: str | None = None
    inventory_error: str | None = None
    samples_written: int | None = None
