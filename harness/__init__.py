"""OptiInfra E2E harness: stack lifecycle, waiting, store clients and a pytest plugin.

Layers: ``harness.core`` (generic: compose stack, waits, ports, signals) and
``harness.domain`` (OptiInfra: ports, credentials, clients). The arrow points one way.
"""

from harness.core import (
    HarnessError,
    PortConflictError,
    ServiceUnhealthyError,
    Stack,
    StackConfig,
    StackStartError,
    WaitTimeoutError,
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
    "stack_config",
    "wait_for",
]
