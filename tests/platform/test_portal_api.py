"""The portal in-process with fakes: auth, validation, forwarding, isolation, WebSocket."""

from __future__ import annotations

import json
import warnings

import httpx
import pytest
from starlette.websockets import WebSocketDisconnect

with warnings.catch_warnings():
    # Starlette 1.x would rather drive its test client with httpx2; httpx works the same here.
    warnings.filterwarnings("ignore", message=".*httpx2", category=UserWarning)
    from fastapi.testclient import TestClient

from optiinfra.common.models import CustomerPublic
from optiinfra.common.settings import Settings
from optiinfra.portal.app import Portal, create_app
from optiinfra.portal.events import EventHub

ADMIN = "test-admin-token"


class FakeCustomers:
    def __init__(self) -> None:
        self.tokens = {"tok-a": "cust-a", "tok-b": "cust-b"}

    async def create(self, name: str) -> CustomerPublic:
        self.tokens[f"tok-{name}"] = f"cust-{name}"
        return CustomerPublic(id=f"cust-{name}", name=name, api_token=f"tok-{name}")

    async def by_token(self, token: str) -> str | None:
        return self.tokens.get(token)

    async def get(self, cid: str) -> dict:
        return {"id": cid, "name": cid, "created_at": "2026-01-01T00:00:00Z"}


class FakeDb:
    async def ping(self) -> bool:
        return True


class FakeRedis:
    async def ping(self) -> bool:
        return True


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(seen: list[httpx.Request]) -> TestClient:
    def orchestrator(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        if req.url.path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        if req.url.path.startswith("/v1/optimizations/") and req.headers[
                "X-Customer-Id"] != "cust-a":
            return httpx.Response(404, json={"detail": "optimization x not found"})
        return httpx.Response(202 if req.method == "POST" else 200, json={"id": "x",
                                                                          "status": "pending"})

    def workload(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, json={"data": [], "count": 0})

    settings = Settings(admin_token=ADMIN)
    p = Portal(settings, FakeDb(), FakeRedis(), FakeCustomers(), EventHub(None),  # type: ignore[arg-type]
               httpx.AsyncClient(base_url="http://orch", transport=httpx.MockTransport(
                   orchestrator)),
               httpx.AsyncClient(base_url="http://wl", transport=httpx.MockTransport(workload)))
    with TestClient(create_app(settings, p, start_loops=False)) as c:
        yield c


def auth(token: str = "tok-a") -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/ready")
    assert r.status_code == 503 and r.json()["checks"]["events"] is False  # hub not running


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"},
                                     {"Authorization": "Basic abc"}])
def test_no_or_bad_token_is_401(client: TestClient, headers: dict) -> None:
    r = client.get("/api/v1/recommendations", headers=headers)
    assert r.status_code == 401 and "detail" in r.json()


def test_customer_creation_needs_the_admin_token(client: TestClient) -> None:
    assert client.post("/api/v1/customers", json={"name": "n"}).status_code == 401
    assert client.post("/api/v1/customers", json={"name": "n"},
                       headers={"X-Admin-Token": "wrong"}).status_code == 403
    r = client.post("/api/v1/customers", json={"name": "n"}, headers={"X-Admin-Token": ADMIN})
    assert r.status_code == 201 and set(r.json()) == {"id", "name", "api_token"}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/analyses", {"kind": "quantum"}, "kind"),
    ("/api/v1/analyses", {}, "kind"),
    ("/api/v1/infrastructure/discover", {"provider": "gcp", "region": "us-east-1"}, "provider"),
    ("/api/v1/infrastructure/discover", {"provider": "aws", "region": "mars"}, "region"),
])
def test_malformed_bodies_are_422_with_field_errors(client: TestClient, seen: list,
                                                    path: str, body: dict, field: str) -> None:
    r = client.post(path, json=body, headers=auth())
    assert r.status_code == 422
    assert any(err["loc"][-1] == field for err in r.json()["detail"]), r.json()
    assert not [q for q in seen if q.url.path.startswith("/v1")]  # nothing forwarded


def test_customer_creation_validates_its_body(client: TestClient) -> None:
    r = client.post("/api/v1/customers", json={"name": ""}, headers={"X-Admin-Token": ADMIN})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "name"]


def test_calls_forward_with_the_customer_id_and_pass_answers_through(
        client: TestClient, seen: list[httpx.Request]) -> None:
    r = client.post("/api/v1/analyses", json={"kind": "cost"}, headers=auth())
    assert r.status_code == 202 and r.json()["id"] == "x"
    req = seen[-1]
    assert req.url.path == "/v1/analyses" and req.headers["X-Customer-Id"] == "cust-a"
    assert req.headers["X-Admin-Token"] == ADMIN
    assert json.loads(req.content) == {"kind": "cost", "region": "us-east-1", "clouds": ["aws"]}
    client.get("/api/v1/recommendations?status=validated", headers=auth())
    assert seen[-1].url.params["status"] == "validated" and "kind" not in seen[-1].url.params
    unknown = "00000000-0000-4000-8000-000000000001"
    assert client.get(f"/api/v1/optimizations/{unknown}", headers=auth("tok-b")).status_code == 404


def _portal_over(orchestrator) -> TestClient:  # a MockTransport handler
    settings = Settings(admin_token=ADMIN)
    p = Portal(settings, FakeDb(), FakeRedis(), FakeCustomers(), EventHub(None),  # type: ignore[arg-type]
               httpx.AsyncClient(base_url="http://o", transport=httpx.MockTransport(orchestrator)),
               httpx.AsyncClient(base_url="http://w", transport=httpx.MockTransport(orchestrator)))
    return TestClient(create_app(settings, p, start_loops=False))


def test_orchestrator_down_is_503() -> None:
    calls: list[str] = []

    def down(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        raise httpx.ConnectError("refused", request=req)

    with _portal_over(down) as c:
        r = c.get("/api/v1/costs", headers=auth())
        assert r.status_code == 503 and "orchestrator unavailable: ConnectError" in r.json()[
            "detail"]
    assert calls == ["GET", "GET"]  # tried again once, then gave up


def test_a_get_survives_one_broken_connection_but_a_post_is_never_resent() -> None:
    calls: list[str] = []

    def flaky(req: httpx.Request) -> httpx.Response:
        calls.append(req.method)
        if len(calls) % 2:  # every first attempt breaks, as a connection closed in transit
            raise httpx.ReadError("connection reset", request=req)
        return httpx.Response(200, json={"id": "x", "status": "pending"})

    with _portal_over(flaky) as c:
        assert c.get("/api/v1/costs", headers=auth()).status_code == 200
        assert calls == ["GET", "GET"]
        calls.clear()
        r = c.post("/api/v1/analyses", headers=auth(), json={"kind": "cost"})
        assert r.status_code == 503 and "ReadError" in r.json()["detail"]
        assert calls == ["POST"]  # not repeated: the first may have been applied


def test_admin_fault_proxy_needs_the_admin_token(client: TestClient, seen: list) -> None:
    body = {"customer_id": "cust-a", "variant": "spot", "quality_drop": 0.2}
    assert client.put("/admin/faults", json=body, headers=auth()).status_code == 401
    r = client.put("/admin/faults", json=body, headers={"X-Admin-Token": ADMIN})
    assert r.status_code == 200 and seen[-1].url.path == "/admin/faults"
    r = client.put("/admin/faults", json={**body, "quality_drop": 3},
                   headers={"X-Admin-Token": ADMIN})
    assert r.status_code == 422


def test_websocket_rejects_bad_tokens(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws/events?token=nope"):
        pass


def test_websocket_gets_only_its_customers_events(client: TestClient) -> None:
    hub: EventHub = client.app.state.portal.hub
    with client.websocket_connect("/ws/events?token=tok-a") as ws:
        assert ws.receive_json()["type"] == "connected"
        for cid in ("cust-b", "cust-a"):
            hub.dispatch(json.dumps({"type": "optimization.completed", "customer_id": cid,
                                     "entity_id": f"o-{cid}", "at": "t", "data": {}}))
        got = ws.receive_json()
        assert got["customer_id"] == "cust-a" and got["entity_id"] == "o-cust-a"
    assert hub.subscribers == {}
