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
RECOMMENDATION = StateMachine("recommendation", {"pending": {"validated", "rejected"},
                                                 "validated": {"approved", "rejected"}})
OPTIMIZATION = StateMachine("optimization", {
    "pending": {"running", "rolled_back", "failed"},
    "running": {"completed", "rolled_back", "failed"},
})
STEP = StateMachine("step", {"pending": {"running", "skipped"},
                             "running": {"completed", "failed"}})

ANALYSIS_KINDS = ("cost", "performance", "resource", "application", "full")
AGENTS = ("cost", "performance", "resource", "application")
# Agents whose approval a recommendation kind needs before a customer may approve it.
REQUIRED_VALIDATORS: dict[str, tuple[str, ...]] = {
    "spot_migration": ("performance", "application", "resource"),
}
# Agents that gate every traffic step of a rollout.
STEP_VALIDATORS = ("performance", "application")


def agents_for_analysis(kind: str) -> tuple[str, ...]:
    if kind == "full":
        return AGENTS
    if kind not in AGENTS:
        raise DomainError(f"unknown analysis kind {kind!r}")
    return (kind,)


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
ROLLBACK_STEP = "rollback"


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
