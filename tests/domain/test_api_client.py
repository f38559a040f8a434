"""The typed portal client over a mock transport: auth headers, models, errors, masking."""

from __future__ import annotations

import asyncio
import inspect
import json

import httpx
import pytest

from harness.domain import ApiError, AsyncPortalClient, PortalClient

pytestmark = pytest.mark.unit


def _handler(seen: list[httpx.Request]):
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/customers":
            return httpx.Response(201, json={"id": "c1", "name": "acme", "api_token": "tok-1"})
        if request.url.path == "/api/v1/costs":
            return httpx.Response(200, json={"monthly_cost": 1234.5, "currency": "USD",
                                             "by_pool": {"gpu": 1000}})
        if request.url.path.startswith("/api/v1/recommendations/missing"):
            return httpx.Response(404, json={"detail": "recommendation not found"})
        if request.url.path == "/api/v1/recommendations":
            return httpx.Response(200, json={"data": [{
                "id": "r1", "kind": "spot_migration", "status": "validated",
                "estimated_monthly_savings": 100.0, "confidence": 0.8,
                "validations": [{"agent": "performance", "verdict": "approve", "reason": "ok"},
                                {"agent": "application", "verdict": "approve", "reason": "ok"},
                                {"agent": "resource", "verdict": "reject", "reason": "cpu"}],
            }], "count": 1})
        return httpx.Response(500, text="boom")
    return handle


def test_admin_and_bearer_headers_and_typed_models():
    seen: list[httpx.Request] = []
    api = PortalClient("http://portal", admin_token="adm", transport=httpx.MockTransport(
        _handler(seen)))
    customer = api.create_customer("acme")
    assert customer.id == "c1" and customer.api_token == "tok-1"
    assert seen[0].headers["X-Admin-Token"] == "adm"
    assert json.loads(seen[0].content) == {"name": "acme"}

    client = api.with_token(customer.api_token)
    costs = client.get_costs()
    assert costs.monthly_cost == 1234.5
    assert costs.by_pool == {"gpu": 1000}  # extensions of the contract are kept
    assert seen[1].headers["Authorization"] == "Bearer tok-1"
    recs = client.list_recommendations(kind="spot_migration", status="validated")
    assert seen[2].url.params["kind"] == "spot_migration"
    assert recs.data[0].approving_agents == ["application", "performance"]


def test_error_carries_request_status_and_body():
    api = PortalClient("http://portal", token="t", transport=httpx.MockTransport(_handler([])))
    with pytest.raises(ApiError) as err:
        api.get_recommendation("missing")
    assert err.value.status == 404
    assert err.value.body == {"detail": "recommendation not found"}
    assert "GET http://portal/api/v1/recommendations/missing -> 404" in str(err.value)


def test_unreachable_portal_is_an_api_error_with_no_status():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = PortalClient("http://portal", token="t", transport=httpx.MockTransport(refuse))
    with pytest.raises(ApiError) as err:
        api.get_costs()
    assert err.value.status is None and "connection refused" in str(err.value)


def test_exchanges_are_recorded_with_tokens_masked():
    api = PortalClient("http://portal", admin_token="adm", transport=httpx.MockTransport(
        _handler([])))
    customer = api.create_customer("acme")
    customer_client = api.with_token(customer.api_token)
    customer_client.get_costs()
    assert [(e.method, e.status) for e in api.exchanges] == [("POST", 201), ("GET", 200)]
    assert api.exchanges[0].response_body["api_token"] == "***"
    assert "tok-1" not in repr(api.exchanges)


def test_async_twin_has_the_same_methods_and_works():
    def public(cls: type) -> set[str]:
        return {n for n, _ in inspect.getmembers(cls, inspect.isfunction)
                if not n.startswith("_")}

    sync_only = {"close", "wait_until_healthy"}
    async_only = {"aclose"}
    assert public(PortalClient) - sync_only == public(AsyncPortalClient) - async_only

    async def run() -> float:
        async with AsyncPortalClient("http://portal", token="t",
                                     transport=httpx.MockTransport(_handler([]))) as client:
            return (await client.get_costs()).monthly_cost

    assert asyncio.run(run()) == 1234.5
