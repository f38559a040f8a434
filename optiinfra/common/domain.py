"""Domain vocabulary: entities' state machines, the rollout plan, inventory records.

Pure: no IO. Illegal transitions raise ``IllegalTransition`` so callers cannot
half-apply a change (the API maps it to 409).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """Base of the platform's domain errors."""


class IllegalTransition(DomainError):
    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(f"{entity} cannot go from {current!r} to {target!r}")
        self.entity, self.current, self.target = entity, current, target


class Superseded(IllegalTransition):
    """Approving a proposal that lost a conflict (or conflicts with a running change)."""

    def __init__(self, rec_id: str, reason: str) -> None:
        DomainError.__init__(self, f"recommendation {rec_id} cannot be approved: {reason}")
        self.entity, self.current, self.target = "recommendation", "superseded", "approved"
        self.reason = reason


class UnknownInstanceType(DomainError):
    def __init__(self, region: str, instance_type: str) -> None:
        super().__init__(f"no price for {instance_type} in {region}")
        self.region, self.instance_type = region, instance_type


class StateMachine:
    """Allowed transitions of one entity; anything not listed is illegal."""

    def __init__(self, entity: str, transitions: dict[str, set[str]]) -> None:
        self.entity = entity
        self.transitions = transitions
        self.states = set(transitions) | {s for t in transitions.values() for s in t}

    def check(self, current: str, target: str) -> str:
        if target not in self.transitions.get(current, set()):
            raise IllegalTransition(self.entity, current, target)
        return target

    def is_terminal(self, state: str) -> bool:
        return not self.transitions.get(state)


ANALYSIS = StateMachine("analysis", {"pending": {"running", "completed", "failed"},
                                     "running": {"completed", "failed"}})
RECOMMENDATION = StateMachine("recommendation", {
    "pending": {"validated", "rejected", "superseded"},
    "validated": {"approved", "rejected", "superseded"}})
OPTIMIZATION = StateMachine("optimization", {
    "pending": {"running", "rolled_back", "failed"},
    "running": {"completed", "rolled_back", "failed"},
})
STEP = StateMachine("step", {"pending": {"running", "skipped"},
                             "running": {"completed", "failed"}})

ANALYSIS_KINDS = ("cost", "performance", "resource", "application", "full")
AGENTS = ("cost", "performance", "resource", "application")
# Agents whose approval a recommendation kind needs before a customer may approve it.
# The cost agent re-prices its own proposal against the live fleet: the fleet may have
# changed between the analysis and the validation.
REQUIRED_VALIDATORS: dict[str, tuple[str, ...]] = {
    "spot_migration": ("cost", "performance", "application", "resource"),
}
# Agents that gate every traffic step of a rollout.
STEP_VALIDATORS = ("performance", "application")


def agents_for_analysis(kind: str) -> tuple[str, ...]:
    if kind == "full":
        return AGENTS
    if kind not in AGENTS:
        raise DomainError(f"unknown analysis kind {kind!r}")
    return (kind,)


def proposal_key(kind: str, details: dict) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """What a proposal changes: its kind, pools and candidate instances."""
    return (kind, tuple(sorted(details.get("pools", []))),
            tuple(sorted(c["instance_id"] for c in details.get("candidates", []))))


def conflicting_pools(a: dict, b: dict) -> list[str]:
    """The pools two proposals would both change (their ``details``): a conflict when any."""
    return sorted(set(a.get("pools", [])) & set(b.get("pools", [])))


def supersede_reason(winner_kind: str, winner_id: str, pools: list[str]) -> str:
    """Policy: the first proposal the customer approves wins; every other open proposal that
    changes one of its pools is superseded (it was computed for a fleet about to change)."""
    return (f"superseded by {winner_kind} {winner_id}, approved first: both change pool(s) "
            f"{', '.join(pools)}")


def merge_findings(results: dict[str, dict], agents: tuple[str, ...] | list[str]
                   ) -> list[dict]:
    """One list of every agent's findings, in the analysis's agent order, each tagged with
    its agent. An agent that has not reported (or failed) contributes nothing."""
    merged: list[dict] = []
    for agent in agents:
        summary = results.get(agent) or {}
        for finding in summary.get("findings", []) if isinstance(summary, dict) else []:
            merged.append({**finding, "agent": agent})
    return merged


def recommendation_outcome(required: tuple[str, ...], verdicts: dict[str, str]) -> str:
    """``rejected`` on any reject, ``validated`` once all required approve, else ``pending``."""
    if any(v == "reject" for v in verdicts.values()):
        return "rejected"
    if all(verdicts.get(agent) == "approve" for agent in required):
        return "validated"
    return "pending"


@dataclass(frozen=True)
class RolloutStep:
    name: str
    action: str  # launch | shift | validate | terminate
    traffic_pct: int


ROLLOUT_PLAN: tuple[RolloutStep, ...] = (
    RolloutStep("launch_spot_instances", "launch", 0),
    RolloutStep("shift_traffic_10", "shift", 10),
    RolloutStep("validate_10", "validate", 10),
    RolloutStep("shift_traffic_50", "shift", 50),
    RolloutStep("validate_50", "validate", 50),
    RolloutStep("shift_traffic_100", "shift", 100),
    RolloutStep("validate_100", "validate", 100),
    RolloutStep("terminate_on_demand", "terminate", 100),
)
# A scale-out adds on-demand instances to a hot pool (no traffic shift: the pool's demand
# spreads over its instances), then checks the latency it promised.
SCALE_OUT_PLAN: tuple[RolloutStep, ...] = (
    RolloutStep("scale_out_instances", "scale_out", 100),
    RolloutStep("validate_latency", "validate_latency", 100),
)
# A consolidation terminates the pool's surplus on-demand instances.
CONSOLIDATION_PLAN: tuple[RolloutStep, ...] = (
    RolloutStep("consolidate_instances", "consolidate", 100),
)
# Only AWS is simulated: approving a cross-cloud move yields its plan, nothing is executed.
CROSS_CLOUD_PLAN: tuple[RolloutStep, ...] = (RolloutStep("migration_plan", "plan", 0),)
PLANS: dict[str, tuple[RolloutStep, ...]] = {"spot_migration": ROLLOUT_PLAN,
                                              "scale_out": SCALE_OUT_PLAN,
                                              "consolidation": CONSOLIDATION_PLAN,
                                              "cross_cloud_migration": CROSS_CLOUD_PLAN}
ROLLBACK_STEP = "rollback"


def rollout_plan(kind: str) -> tuple[RolloutStep, ...]:
    return PLANS.get(kind, ROLLOUT_PLAN)


@dataclass(frozen=True)
class Instance:
    """One EC2 instance of a customer's fleet, as discovered."""

    instance_id: str
    instance_type: str
    region: str
    lifecycle: str  # on-demand | spot
    pool: str = "default"
    state: str = "running"
    image_id: str = ""
    availability_zone: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return self.instance_type.split(".", 1)[0]

    @property
    def is_gpu(self) -> bool:
        return self.family[:1] in ("g", "p")
