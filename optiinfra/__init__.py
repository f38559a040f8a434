"""OptiInfra reference platform: the system under test of the E2E harness.

Services (one image, one package, services differ by module):
``optiinfra.portal``, ``optiinfra.orchestrator``, ``optiinfra.agents.<name>``,
``optiinfra.workload``. Shared code lives in ``optiinfra.common``.
"""

__version__ = "0.1.0"
