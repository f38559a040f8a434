"""Generic core: stack lifecycle, waiting, ports, signals, narrative, secret masking.
Knows nothing of OptiInfra: what is specific to a stack comes in through StackConfig."""

from ._config import PortSpec, StackConfig
from ._engine import engine_host, engine_url, host_of, is_local_address, publish_address
from ._exceptions import (
    ConfigError,
    EngineUnavailableError,
    HarnessError,
    PortClaim,
    PortConflictError,
    ServiceUnhealthyError,
    StackCommandError,
    StackStartError,
    UnhealthyService,
    WaitTimeoutError,
)
from ._masking import MASK, mask_data, mask_text
from ._narrative import (
    Narrative,
    PhaseRecord,
    current_narrative,
    phase,
    reset_narrative,
    say,
    use_narrative,
)
from ._ports import check_ports, describe_port_holder, find_conflicts, port_is_free
from ._resources import OWNER_DETACHED, ResourceLabels, new_run_id, owner_is_gone, owner_label
from ._resources_probe import MemoryGrowthError, MemoryReading, assert_memory_bounded
from ._signals import Interrupted, install_sigterm_as_interrupt, interrupts_raise
from ._stack import Stack
from ._status import ServiceStatus, StackStatus
from ._wait import WaitReport, wait_for

__all__ = [
    "MASK",
    "OWNER_DETACHED",
    "ConfigError",
    "EngineUnavailableError",
    "HarnessError",
    "Interrupted",
    "MemoryGrowthError",
    "MemoryReading",
    "Narrative",
    "PhaseRecord",
    "PortClaim",
    "PortConflictError",
    "PortSpec",
    "ResourceLabels",
    "ServiceStatus",
    "ServiceUnhealthyError",
    "Stack",
    "StackCommandError",
    "StackConfig",
    "StackStartError",
    "StackStatus",
    "UnhealthyService",
    "WaitReport",
    "WaitTimeoutError",
    "assert_memory_bounded",
    "check_ports",
    "current_narrative",
    "describe_port_holder",
    "engine_host",
    "engine_url",
    "find_conflicts",
    "host_of",
    "install_sigterm_as_interrupt",
    "interrupts_raise",
    "is_local_address",
    "mask_data",
    "mask_text",
    "new_run_id",
    "owner_is_gone",
    "owner_label",
    "phase",
    "port_is_free",
    "publish_address",
    "reset_narrative",
    "say",
    "use_narrative",
    "wait_for",
]
