"""Every query parameter's documented bounds, on the portal and on the orchestrator's port.

docs/api.md, Errors: `?status=` not a recommendation state, `?kind=` not snake_case,
`?region=` not a region of the catalogue, `?entity_id=` not a UUID, `limit`/`window` out of
range: 422 with field errors that name the parameter. Read from each service's live
`/openapi.json` (the machine-readable contract): every bound it declares (minimum, maximum,
enum, pattern, maxLength) is probed just inside (accepted: 2xx) and just outside (422, never
a 5xx), so a route that loses a bound or chokes on a value it declares valid fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _platform_journey import ADMIN_TOKEN, Customer, close_customers, new_customer

from harness.domain import Endpoints

pytestmark = pytest.mark.e2e

# A value each pattern-checked parameter accepts (a pattern cannot be inverted in general).
VALID_EXAMPLES = {"kind": "spot_migration", "entity_id": "00000000-0000-4000-8000-000000000000"}
NOT_MATCHING = "Not Valid!"  # neither snake_case nor a UUID


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    param: str
    value: Any
    accept: bool  # True: 2xx expected; False: 422

    def __str__(self) -> str:
        return f"{self.method} {self.path}?{self.param}={self.value!r}"


def _schema(param: dict[str, Any]) -> dict[str, Any]:
    """The parameter's non-null schema (``anyOf: [X, null]`` for optional ones)."""
    s = param.get("schema", {})
    for option in s.get("anyOf", []):
        if option.get("type") != "null":
            return {**option, **{k: v for k, v in s.items() if k != "anyOf"}}
    return s


def probes_of(spec: dict[str, Any]) -> list[Probe]:
    """Inside and outside every declared bound of every query parameter of every GET/DELETE
    operation (the read-only ones: probing them changes nothing)."""
    out: list[Probe] = []
    for path, ops in spec["paths"].items():
        if "{" in path:
            continue  # path ids are the security lane's (scenarios/security/)
        for method, op in ops.items():
            if method not in ("get", "delete"):
                continue
            for param in op.get("parameters", []):
                if param.get("in") != "query":
                    continue
                name, s, m = param["name"], _schema(param), method.upper()
                if "minimum" in s:
                    out += [Probe(m, path, name, s["minimum"], True),
                            Probe(m, path, name, s["minimum"] - 1, False)]
                if "maximum" in s:
                    out += [Probe(m, path, name, s["maximum"], True),
                            Probe(m, path, name, s["maximum"] + 1, False),
                            Probe(m, path, name, 10 ** 30, False)]
                if s.get("type") == "integer":
                    out.append(Probe(m, path, name, "twelve", False))
                if "enum" in s:
                    out += [Probe(m, path, name, v, True) for v in s["enum"]]
                    out.append(Probe(m, path, name, f"not-a-{name}", False))
                if "pattern" in s:
                    if name in VALID_EXAMPLES:
                        out.append(Probe(m, path, name, VALID_EXAMPLES[name], True))
                    out.append(Probe(m, path, name, NOT_MATCHING, False))
                if "maxLength" in s:
                    out += [Probe(m, path, name, "x" * s["maxLength"], True),
                            Probe(m, path, name, "x" * (s["maxLength"] + 1), False)]
    return out


@pytest.fixture
def customer() -> Iterator[Customer]:
    c = new_customer("bounds")
    yield c
    close_customers([c])


def check(http: httpx.Client, probes: list[Probe], headers_of: Any) -> list[str]:
    """Every probe's answer; returns what broke the contract."""
    broken = []
    for p in probes:
        r = http.request(p.method, p.path, params={p.param: p.value},
                         headers=headers_of(p.path))
        if p.accept:
            if not 200 <= r.status_code < 300:
                broken.append(f"{p} (in bounds) -> {r.status_code}: {r.text[:200]}")
            continue
        if r.status_code != 422:
            broken.append(f"{p} (out of bounds) -> {r.status_code}, expected 422: "
                          f"{r.text[:200]}")
            continue
        locs = [e.get("loc", []) for e in r.json().get("detail", [])]
        if ["query", p.param] not in [list(loc[-2:]) for loc in locs]:
            broken.append(f"{p} -> 422 without a field error for query {p.param!r}: {locs}")
    return broken


def customer_headers(c: Customer) -> Any:
    return lambda path: ({"X-Admin-Token": ADMIN_TOKEN} if path.startswith("/admin")
                         else {"Authorization": f"Bearer {c.token}"})


@pytest.mark.req("REQ-INPUT-01")
def test_every_portal_query_bound_answers_422_outside_and_is_accepted_inside(
        customer: Customer, endpoints: Endpoints) -> None:
    with httpx.Client(base_url=endpoints.portal_url, timeout=60) as http:
        probes = probes_of(http.get("/openapi.json").json())
        params = {(p.path, p.param) for p in probes}
        # The documented query parameters (docs/api.md, Errors and Routes) are all declared.
        for documented in (("/api/v1/recommendations", "status"),
                           ("/api/v1/recommendations", "kind"),
                           ("/api/v1/recommendations", "limit"),
                           ("/api/v1/optimizations", "limit"),
                           ("/api/v1/metrics/summary", "window"),
                           ("/api/v1/audit", "entity_id"), ("/api/v1/audit", "limit"),
                           ("/api/v1/costs", "region"), ("/api/v1/reports/savings", "region")):
            assert documented in params, f"the portal's OpenAPI declares no bound for " \
                f"{documented[0]}?{documented[1]}= (declared: {sorted(params)})"
        broken = check(http, probes, customer_headers(customer))
    assert not broken, f"{len(broken)} of {len(probes)} query probes broke the contract:\n" \
        + "\n".join(broken)


@pytest.mark.req("REQ-INPUT-01")
def test_every_orchestrator_query_bound_answers_422_outside_and_is_accepted_inside(
        customer: Customer, endpoints: Endpoints) -> None:
    headers = {"X-Admin-Token": ADMIN_TOKEN, "X-Customer-Id": customer.id}
    with httpx.Client(base_url=endpoints.orchestrator_url, timeout=60) as http:
        probes = probes_of(http.get("/openapi.json").json())
        assert probes, "the orchestrator's OpenAPI declares no query bound"
        broken = check(http, probes, lambda _path: headers)
    assert not broken, f"{len(broken)} of {len(probes)} query probes broke the contract:\n" \
        + "\n".join(broken)


def test_probes_cover_each_kind_of_bound() -> None:
    """The probe generator itself (no stack needed beyond the module's conftest)."""
    spec = {"paths": {"/x": {"get": {"parameters": [
        {"in": "query", "name": "limit",
         "schema": {"type": "integer", "minimum": 1, "maximum": 5}},
        {"in": "query", "name": "status", "schema": {"anyOf": [
            {"type": "string", "enum": ["a", "b"]}, {"type": "null"}]}},
        {"in": "query", "name": "kind", "schema": {"anyOf": [
            {"type": "string", "pattern": "^[a-z_]+$"}, {"type": "null"}]}},
        {"in": "path", "name": "ignored", "schema": {"type": "integer", "minimum": 0}}]}},
        "/y/{id}": {"get": {"parameters": [
            {"in": "query", "name": "limit", "schema": {"minimum": 1}}]}}}}
    got = {(p.param, p.value, p.accept) for p in probes_of(spec)}
    assert got == {("limit", 1, True), ("limit", 0, False), ("limit", 5, True),
                   ("limit", 6, False), ("limit", 10 ** 30, False),
                   ("limit", "twelve", False), ("status", "a", True), ("status", "b", True),
                   ("status", "not-a-status", False), ("kind", "spot_migration", True),
                   ("kind", NOT_MATCHING, False)}, got
    assert str(uuid.UUID(VALID_EXAMPLES["entity_id"])) == VALID_EXAMPLES["entity_id"]
