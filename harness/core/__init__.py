"""Generic core: stack lifecycle, waiting, ports, signals. Knows nothing of OptiInfra."""

from ._bundle import Bundle, BundleWriter, mask_data, mask_text
from ._config import PortSpec, StackConfig
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
from ._resources import OWNER_DETACHED, new_run_id, owner_is_gone, owner_label
from ._signals import Interrupted, install_sigterm_as_interrupt
from ._stack import Stack
from ._status import ServiceStatus, StackStatus
from ._summary import render_summary
from ._traceability import Catalogue, Matrix, TestRecord, build_matrix
from ._wait import WaitReport, wait_for

__all__ = [
    "OWNER_DETACHED",
    "Bundle",
    "BundleWriter",
    "Catalogue",
    "ConfigError",
    "EngineUnavailableError",
    "HarnessError",
    "Interrupted",
    "Matrix",
    "Narrative",
    "PhaseRecord",
    "PortClaim",
    "PortConflictError",
    "PortSpec",
    "ServiceStatus",
    "ServiceUnhealthyError",
    "Stack",
    "StackCommandError",
    "StackConfig",
    "StackStartError",
    "StackStatus",
    "TestRecord",
    "UnhealthyService",
    "WaitReport",
    "WaitTimeoutError",
    "build_matrix",
    "check_ports",
    "current_narrative",
    "describe_port_holder",
    "find_conflicts",
    "install_sigterm_as_interrupt",
    "mask_data",
    "mask_text",
    "new_run_id",
    "owner_is_gone",
    "owner_label",
    "phase",
    "port_is_free",
    "render_summary",
    "reset_narrative",
    "say",
    "use_narrative",
    "wait_for",
]
