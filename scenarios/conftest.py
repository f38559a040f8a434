"""Fixtures the customer-journey scenarios share on top of the harness plugin.

``faults`` injects workload faults through the typed client's admin calls (the portal's
``/admin/faults`` with ``X-Admin-Token``) and clears the test customer's faults afterwards,
pass or fail. It uses ``api_client``, so its calls are in the failure bundle's HTTP exchanges.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.domain import Customer, FaultsPublic, PortalClient


class Faults:
    """Faults of one customer's workload (the simulator applies them per pool and variant)."""

    def __init__(self, client: PortalClient, customer_id: str) -> None:
        self.customer_id = customer_id
        self._client = client

    def inject(self, *, pool: str = "*", variant: str = "*", **effects: float | None
               ) -> FaultsPublic:
        """Set a fault: ``quality_drop``, ``added_latency_ms``, ``error_rate``,
        ``demand_multiplier``, ``duration_s``, ``from_traffic_pct`` (docs/api.md, Faults)."""
        active = self._client.inject_fault(self.customer_id, pool=pool, variant=variant,
                                           **effects)
        assert any(f.pool == pool and f.variant == variant
                   for f in active.of(self.customer_id)), \
            f"the fault on pool {pool!r}, variant {variant!r} is not among the active ones: " \
            f"{active.of(self.customer_id)}"
        return active

    def clear(self) -> int:
        return self._client.clear_faults(self.customer_id).cleared


@pytest.fixture
def faults(test_customer: Customer, api_client: PortalClient) -> Iterator[Faults]:
    f = Faults(api_client, test_customer.id)
    yield f
    f.clear()  # api_client is closed after this (it is set up before this fixture)
