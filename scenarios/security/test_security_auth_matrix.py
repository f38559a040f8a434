"""Who may call what: every operation of the live OpenAPI (portal and orchestrator port) x
every credential case gets exactly the status docs/api.md promises ("Who may call what"),
never a 2xx and never a 5xx. No route list is kept here: a new route is probed the day it
appears, and one that declares no authentication and is not a documented public route fails.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from _security_lane import Operation, doc_table, operations, promised_status
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from harness.domain import Customer, Endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.security]

MATRIX = "### Who may call what"
Headers = Callable[[Customer, str], dict[str, str]]
# Each case of the docs' table as the headers it sends (customer, admin token).
CASES: dict[str, Headers] = {
    "no token": lambda c, admin: {},
    "malformed": lambda c, admin: {"Authorization": "Basic Zm9vOmJhcg==",
                                   "X-Admin-Token": ""},
    "unknown token": lambda c, admin: {"Authorization": f"Bearer oi_{uuid.uuid4().hex}",
                                       "X-Admin-Token": uuid.uuid4().hex},
    "customer token as bearer": lambda c, admin: {"Authorization": f"Bearer {c.token}"},
    "customer token as admin token": lambda c, admin: {"X-Admin-Token": c.token},
    "admin token alone": lambda c, admin: {"X-Admin-Token": admin},
    "admin token as bearer": lambda c, admin: {"Authorization": f"Bearer {admin}"},
    "admin token, no customer": lambda c, admin: {"X-Admin-Token": admin},
    "admin token, unknown customer": lambda c, admin: {"X-Admin-Token": admin,
                                                       "X-Customer-Id": str(uuid.uuid4())},
}
COLUMN = {"customer": "customer operations", "admin": "admin operations",
          "orchestrator": "orchestrator"}


def _matrix() -> dict[str, dict[str, str]]:
    rows = {r["case"]: r for r in doc_table(MATRIX)}
    assert set(rows) == set(CASES), (
        f"docs/api.md '{MATRIX}' and this test disagree on the cases: only in the docs "
        f"{sorted(set(rows) - set(CASES))}, only here {sorted(set(CASES) - set(rows))}")
    return rows


def _applies(case: str, op: Operation, column: str) -> bool:
    # The customer-id cases are about X-Customer-Id: only operations that take it.
    if case.startswith("admin token, ") and column == "orchestrator":
        return "x-customer-id" in op.header_names()
    return True


def _run(service: str, base_url: str, spec: dict[str, Any], customer: Customer, admin: str,
         probe: Any, record_figure: Any) -> None:
    rows = _matrix()
    mismatches: list[str] = []
    probes: dict[str, int] = {}
    ops = operations(spec)
    undeclared = [op.label for op in ops if op.auth == "undeclared"]
    assert not undeclared, (
        f"{service}: operations that declare no authentication and are not documented as "
        f"public (docs/api.md, {MATRIX}): {undeclared}")
    for op in ops:
        if op.auth == "public":
            continue
        column = "orchestrator" if service == "orchestrator" else op.auth
        for case, headers in CASES.items():
            want = promised_status(rows[case][COLUMN[column]])
            if want is None or not _applies(case, op, column):
                continue
            kw: dict[str, Any] = {"headers": headers(customer, admin)}
            if op.has_body:
                kw["json"] = {}  # credentials are checked before the body
            r = probe(op.method, base_url + op.url(), op.path, **kw)
            probes[case] = probes.get(case, 0) + 1
            ok_shape = r.headers.get("content-type", "").startswith("application/json") \
                and "detail" in r.json()
            if r.status_code != want or not ok_shape:
                mismatches.append(f"  {op.label:50} {case:32} want {want}, got "
                                  f"{r.status_code} {r.text[:120]}")
    total = sum(probes.values())
    record_figure(f"auth matrix ({service}): {len(ops)} operations, {total} probes "
                  f"({', '.join(f'{k}: {v}' for k, v in probes.items())})")
    assert not mismatches, (f"{service}: {len(mismatches)} of {total} probes did not get the "
                            f"status docs/api.md promises ({MATRIX}):\n" + "\n".join(mismatches))


@pytest.mark.req("REQ-ISO-01")
def test_portal_auth_matrix(endpoints: Endpoints, portal_spec: dict, test_customer: Customer,
                            probe: Any, record_figure: Any) -> None:
    _run("portal", endpoints.portal_url, portal_spec, test_customer, endpoints.admin_token,
         probe, record_figure)


@pytest.mark.req("REQ-ISO-01")
def test_orchestrator_port_auth_matrix(endpoints: Endpoints, orchestrator_spec: dict,
                                       test_customer: Customer, probe: Any,
                                       record_figure: Any) -> None:
    _run("orchestrator", endpoints.orchestrator_url, orchestrator_spec, test_customer,
         endpoints.admin_token, probe, record_figure)


@pytest.mark.req("REQ-ISO-01")
def test_websocket_handshake_needs_a_customer_token(endpoints: Endpoints,
                                                    test_customer: Customer,
                                                    record_figure: Any) -> None:
    base = endpoints.portal_url.replace("http", "ws", 1) + "/ws/events"
    refused = {"no token": base, "empty token": base + "?token=",
               "unknown token": base + f"?token=oi_{uuid.uuid4().hex}",
               "admin token": base + f"?token={endpoints.admin_token}"}
    for case, url in refused.items():
        with pytest.raises(InvalidStatus) as err, connect(url, open_timeout=5):
            pass
        assert err.value.response.status_code == 403, (case, err.value.response.status_code)
    with connect(base + f"?token={test_customer.token}", open_timeout=5) as ws:
        assert '"connected"' in str(ws.recv(timeout=5))
    record_figure(f"auth matrix (WebSocket): {len(refused) + 1} handshakes")
