"""Bad input against the running stack: 401, 404, 409, 422, and nothing half-written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from _platform_journey import (
    ADMIN_TOKEN,
    PORTAL_URL,
    Customer,
    close_customers,
    json_ok,
    launch_fleet,
    new_customer,
    portal,
    wait_for,
)
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

pytestmark = pytest.mark.e2e


@pytest.fixture
def pair() -> Iterator[tuple[Customer, Customer]]:
    a, b = new_customer("bad-input"), new_customer("bad-input-other")
    yield a, b
    close_customers([a, b])


def field_errors(r: httpx.Response) -> set[str]:
    assert r.status_code == 422, r.text
    return {str(e["loc"][-1]) for e in r.json()["detail"]}


@pytest.mark.req("REQ-ISO-01")
def test_no_or_unknown_token_is_401() -> None:
    with portal() as anon, portal("not-a-token") as bad:
        for client in (anon, bad):
            for path in ("/api/v1/costs", "/api/v1/recommendations", "/api/v1/patterns",
                         f"/api/v1/optimizations/{uuid.uuid4()}"):
                r = client.get(path)
                assert r.status_code == 401 and "detail" in r.json(), (path, r.text)
        assert anon.post("/api/v1/customers", json={"name": "x"}).status_code == 401


@pytest.mark.req("REQ-ISO-01")
def test_websocket_without_a_valid_token_is_refused() -> None:
    url = PORTAL_URL.replace("http", "ws", 1) + "/ws/events?token=nope"
    with pytest.raises(InvalidStatus), connect(url, open_timeout=10):
        pass


@pytest.mark.req("REQ-INPUT-01")
def test_malformed_bodies_are_422_with_field_errors(pair: tuple[Customer, Customer]) -> None:
    c, _ = pair
    assert "kind" in field_errors(c.post("/api/v1/analyses", {"kind": "quantum"}))
    assert "kind" in field_errors(c.post("/api/v1/analyses", {}))
    assert "provider" in field_errors(c.post("/api/v1/infrastructure/discover",
                                             {"provider": "gcp", "region": "us-east-1"}))
    assert "region" in field_errors(c.post("/api/v1/infrastructure/discover",
                                           {"provider": "aws", "region": "../etc"}))
    r = c.http.post("/api/v1/analyses", content=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    with portal(**{"X-Admin-Token": ADMIN_TOKEN}) as admin:
        assert "name" in field_errors(admin.post("/api/v1/customers", json={"name": ""}))
    # Nothing was written by the rejected calls.
    audit = json_ok(c.get("/api/v1/audit"))["data"]
    assert [x["entity_type"] for x in audit] == ["customer"], audit


@pytest.mark.req("REQ-INPUT-03")
def test_unknown_ids_are_404(pair: tuple[Customer, Customer]) -> None:
    c, _ = pair
    unknown = str(uuid.uuid4())
    for path in (f"/api/v1/analyses/{unknown}", f"/api/v1/recommendations/{unknown}",
                 f"/api/v1/optimizations/{unknown}"):
        assert c.get(path).status_code == 404, path
    assert c.post(f"/api/v1/recommendations/{unknown}/approve").status_code == 404
    assert c.post(f"/api/v1/optimizations/{unknown}/rollback").status_code == 404


@pytest.mark.req("REQ-INPUT-02", "REQ-ISO-02")
def test_decisions_are_409_when_not_allowed_and_isolated(
        pair: tuple[Customer, Customer]) -> None:
    c, other = pair
    launch_fleet(c.id, (("m5.xlarge", 2, "api"),))
    a = json_ok(c.post("/api/v1/analyses", {"kind": "cost"}), 202)
    done = wait_for("analysis", lambda: (lambda b: b if b["status"] != "pending" else None)(
        json_ok(c.get(f"/api/v1/analyses/{a['id']}"))), 60)
    rid = done["recommendation_ids"][0]
    # Another customer cannot see, approve or reject it.
    assert other.get(f"/api/v1/analyses/{a['id']}").status_code == 404
    assert other.get(f"/api/v1/recommendations/{rid}").status_code == 404
    assert other.post(f"/api/v1/recommendations/{rid}/approve").status_code == 404
    assert rid not in {r["id"] for r in other.get("/api/v1/recommendations").json()["data"]}
    # Rejected by the customer: approving it, or rejecting it again, is a conflict.
    wait_for("validated", lambda: json_ok(c.get(f"/api/v1/recommendations/{rid}"))["status"]
             == "validated", 60)
    assert json_ok(c.post(f"/api/v1/recommendations/{rid}/reject",
                          {"reason": "not now"}))["status"] == "rejected"
    assert c.post(f"/api/v1/recommendations/{rid}/approve").status_code == 409
    assert c.post(f"/api/v1/recommendations/{rid}/reject").status_code == 409
    # The failed approval wrote nothing: no optimization, no audit entry after the reject.
    assert json_ok(c.get("/api/v1/optimizations"))["count"] == 0
    actions = [x["action"] for x in json_ok(c.get("/api/v1/audit",
                                                  params={"entity_id": rid}))["data"]]
    assert actions[-1] == "rejected" and "approved" not in actions, actions


@pytest.mark.req("REQ-INPUT-02")
def test_approving_twice_is_409(pair: tuple[Customer, Customer]) -> None:
    c, _ = pair
    launch_fleet(c.id, (("c5.xlarge", 2, "web"),))
    a = json_ok(c.post("/api/v1/analyses", {"kind": "cost"}), 202)
    done = wait_for("analysis", lambda: (lambda b: b if b["status"] != "pending" else None)(
        json_ok(c.get(f"/api/v1/analyses/{a['id']}"))), 60)
    rid = done["recommendation_ids"][0]
    wait_for("validated", lambda: json_ok(c.get(f"/api/v1/recommendations/{rid}"))["status"]
             == "validated", 60)
    oid = json_ok(c.post(f"/api/v1/recommendations/{rid}/approve"), 202)["optimization_id"]
    r = c.post(f"/api/v1/recommendations/{rid}/approve")
    assert r.status_code == 409 and "detail" in r.json()
    assert json_ok(c.get("/api/v1/optimizations"))["count"] == 1
    wait_for("finished", lambda: json_ok(c.get(f"/api/v1/optimizations/{oid}"))["status"]
             in ("completed", "rolled_back", "failed"), 120)
    assert c.post(f"/api/v1/optimizations/{oid}/rollback").status_code == 409
