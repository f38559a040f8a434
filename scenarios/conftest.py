"""Fixtures the customer-journey scenarios share on top of the harness plugin.

``faults`` injects workload faults through the portal's admin proxy (``PUT /admin/faults``
with ``X-Admin-Token``) and clears the test customer's faults afterwards, pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.domain import Customer, Endpoints


class Faults:
    """Faults of one customer's workload (the simulator applies them per pool and variant)."""

    def __init__(self, portal_url: str, admin_token: str, customer_id: str) -> None:
        self.customer_id = customer_id
        self._http = httpx.Client(base_url=portal_url, timeout=15.0,
                                  headers={"X-Admin-Token": admin_token})

    def inject(self, *, pool: str = "*", variant: str = "*", **effects: float | None
               ) -> dict[str, Any]:
        """Set a fault: ``quality_drop``, ``added_latency_ms``, ``error_rate``,
        ``demand_multiplier``, ``duration_s`` (see docs/api.md, Faults)."""
        body = {"customer_id": self.customer_id, "pool": pool, "variant": variant, **effects}
        r = self._http.put("/admin/faults", json=body)
        assert r.status_code == 200, f"PUT /admin/faults {body} -> {r.status_code} {r.text}"
        return r.json()  # type: ignore[no-any-return]

    def clear(self) -> int:
        r = self._http.delete("/admin/faults", params={"customer_id": self.customer_id})
        assert r.status_code == 200, f"DELETE /admin/faults -> {r.status_code} {r.text}"
        return int(r.json()["cleared"])

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def faults(test_customer: Customer, endpoints: Endpoints) -> Iterator[Faults]:
    f = Faults(endpoints.portal_url, endpoints.admin_token, test_customer.id)
    try:
        yield f
    finally:
        try:
            f.clear()
        finally:
            f.close()
