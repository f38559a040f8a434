"""The portal's wire contract as pydantic models (XCreate / XPublic / XsPublic{data,count})."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .edge import SafeText
from .pricing import Catalogue

REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"
# The regions the price catalogue covers: anything else is a 422 that names these (an
# unknown region used to reach EC2 and leave a client per region in the cost agent).
KNOWN_REGIONS: tuple[str, ...] = tuple(Catalogue.load().regions)
Region = Literal[KNOWN_REGIONS]  # type: ignore[valid-type]


class Strict(BaseModel):
    # NaN and infinity are not numbers any field of the contract can hold.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CustomerCreate(Strict):
    name: SafeText = Field(min_length=1, max_length=200)


class CustomerPublic(BaseModel):
    id: str
    name: str
    api_token: str


class DiscoverRequest(Strict):
    provider: Literal["aws"]
    region: Region = "us-east-1"


class InstancePublic(BaseModel):
    instance_id: str
    instance_type: str
    lifecycle: str
    pool: str
    state: str
    region: str
    availability_zone: str
    hourly_cost: float | None  # None: the type is not in the price catalogue


class Inventory(BaseModel):
    region: str
    currency: str
    instances: list[InstancePublic]
    monthly_cost: float
    by_lifecycle: dict[str, float]
    catalogue: dict[str, str]
    unpriced_instance_types: list[str] = []


class CostsPublic(BaseModel):
    monthly_cost: float
    currency: str
    region: str
    instance_count: int
    by_lifecycle: dict[str, float]
    hours_per_month: int = 730
    catalogue: dict[str, str]


class SavingsLine(BaseModel):
    id: str
    recommendation_id: str
    kind: str
    status: str
    predicted_monthly_savings: float
    actual_monthly_savings: float | None
    cost_before: float | None
    cost_after: float | None
    finished_at: datetime | None


class SavingsReportPublic(BaseModel):
    """Completed optimizations' promised vs realised monthly savings, and the bill now."""

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


class AnalysisCreate(Strict):
    kind: Literal["cost", "performance", "resource", "application", "full"]
    region: Region = "us-east-1"
    # Clouds the cost agent may propose moving to; only AWS is executed, other clouds yield
    # a migration plan.
    clouds: list[Literal["aws", "gcp", "azure"]] = Field(default_factory=lambda: ["aws"],
                                                         max_length=3)


class AnalysisAccepted(BaseModel):
    id: str
    status: str


class AnalysisPublic(BaseModel):
    id: str
    kind: str
    region: str
    status: str
    agents: list[str]
    results: dict[str, Any]
    error: str | None
    recommendation_ids: list[str]
    # Every agent's findings merged, in the analysis's agent order, each with its "agent".
    findings: list[dict[str, Any]] = []
    created_at: datetime
    updated_at: datetime


class ValidationPublic(BaseModel):
    agent: str
    verdict: Literal["approve", "reject"]
    reason: str
    data: dict[str, Any] = {}
    created_at: datetime


class RecommendationPublic(BaseModel):
    id: str
    kind: str
    status: str
    analysis_id: str
    estimated_monthly_savings: float
    confidence: float
    risk: float
    details: dict[str, Any]
    validations: list[ValidationPublic]
    required_validators: list[str]
    similar_patterns: list[dict[str, Any]]
    reason: str | None
    optimization_id: str | None
    # Other open proposals that change one of this one's pools: approving one supersedes
    # the others (see docs/api.md, conflicts).
    conflicts_with: list[str] = []
    created_at: datetime
    updated_at: datetime


class RecommendationsPublic(BaseModel):
    data: list[RecommendationPublic]
    count: int


class DecisionRequest(Strict):
    reason: SafeText | None = Field(None, max_length=500)


class ApproveAccepted(BaseModel):
    optimization_id: str
    status: str


class StepPublic(BaseModel):
    name: str
    status: str
    traffic_pct: int
    started_at: datetime | None
    finished_at: datetime | None
    detail: dict[str, Any] = {}


class OptimizationPublic(BaseModel):
    id: str
    recommendation_id: str
    status: Literal["pending", "running", "completed", "rolled_back", "failed"]
    steps: list[StepPublic]
    predicted_monthly_savings: float
    actual_monthly_savings: float | None
    cost_before: float | None
    cost_after: float | None
    quality_score: float | None
    spot_instance_ids: list[str]
    reason: str | None
    rollback_requested: str | None
    pattern_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class OptimizationsPublic(BaseModel):
    data: list[OptimizationPublic]
    count: int


class RollbackAccepted(BaseModel):
    id: str
    status: str
    rollback_requested: str


class MetricsSummary(BaseModel):
    window: int
    samples: int
    latency_p95_ms: float | None
    quality_score: float | None
    throughput_rps: float
    error_rate: float | None


class PatternPublic(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    collection: str


class PatternsPublic(BaseModel):
    data: list[PatternPublic]
    count: int


class AuditEntry(BaseModel):
    id: int
    entity_type: str
    entity_id: str
    action: str
    from_status: str | None
    to_status: str | None
    data: dict[str, Any]
    at: datetime


class AuditPublic(BaseModel):
    data: list[AuditEntry]
    count: int


class Health(BaseModel):
    status: str


class FaultCreate(Strict):
    """A fault the workload simulator applies to one customer's pool and variant."""

    customer_id: SafeText = Field(min_length=1, max_length=64)
    pool: SafeText = Field("*", min_length=1, max_length=64)
    variant: Literal["on_demand", "spot", "*"] = "*"
    quality_drop: float = Field(0.0, ge=0, le=1)
    added_latency_ms: float = Field(0.0, ge=0, le=60_000)
    error_rate: float = Field(0.0, ge=0, le=1)
    # A demand surge: the pool receives this multiple of the traffic it was sized for.
    demand_multiplier: float = Field(1.0, ge=0.1, le=10)
    duration_s: float | None = Field(None, gt=0, le=86_400)
    # The fault waits until a rollout sends at least this % of traffic to spot (0 = now).
    from_traffic_pct: int = Field(0, ge=0, le=100)


class FaultPublic(FaultCreate):
    expires_in_s: float | None = None


class FaultsPublic(BaseModel):
    data: list[FaultPublic]
    count: int
