"""OptiInfra E2E harness: stack lifecycle, waiting, clients, assertions and a pytest plugin.

Layers: ``harness.core`` (generic: compose stack, waits, ports, signals, narrative) and
``harness.domain`` (OptiInfra: ports, credentials, typed client, events, waits, assertions,
factories). The arrow points one way: domain uses core, core knows nothing of OptiInfra.
"""

from harness.core import (
    HarnessError,
    PortConflictError,
    ServiceUnhealthyError,
    Stack,
    StackConfig,
    StackStartError,
    WaitTimeoutError,
    phase,
    say,
    wait_for,
)
from harness.domain import stack_config

__all__ = [
    "HarnessError",
    "PortConflictError",
    "ServiceUnhealthyError",
    "Stack",
    "StackConfig",
    "StackStartError",
    "WaitTimeoutError",
    "phase",
    "say",
    "stack_config",
    "wait_for",
]
