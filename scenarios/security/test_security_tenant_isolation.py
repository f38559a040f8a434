"""Tenant isolation, generated from the live OpenAPI: two customers who each ran a full
journey. For every operation that takes an id (path or query) and every method, A's
credentials on B's ids get the same answer as an unknown id; no answer to A names any of
B's ids, instances or name; A's WebSocket got none of B's events while both journeys ran.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from _security_lane import Operation, operations
from _tenants import Tenant, Tenants

from harness.domain import Endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.security]

UNKNOWN = "00000000-0000-4000-8000-0000000000ff"


def _shape(r: httpx.Response, the_id: str) -> tuple[int, str]:
    """An answer with the probed id taken out: B's id and an unknown id must read the same."""
    return r.status_code, re.sub(re.escape(the_id), "<id>", r.text)


def _as(service: str, t: Tenant, admin: str) -> dict[str, str]:
    if service == "portal":
        return {"Authorization": f"Bearer {t.token}"}
    return {"X-Admin-Token": admin, "X-Customer-Id": t.id}


def _id_probes(service: str, base: str, spec: dict, tenants: Tenants, admin: str,
               probe: Any) -> tuple[int, list[str]]:
    a, b = tenants.a, tenants.b
    diffs, count = [], 0
    for op in operations(spec):
        tenant_op = op.auth == "customer" if service == "portal" \
            else "x-customer-id" in op.header_names()
        if not tenant_op or not (op.path_params or op.id_query_params):
            continue  # admin operations are no tenant's; the auth matrix covers them
        for b_id, kind in b.ids.items():
            for probed, unknown in _requests(op, b_id):
                body = {} if op.has_body else None
                got = probe(op.method, base + probed[0], op.path, params=probed[1],
                            headers=_as(service, a, admin), json=body)
                ref = probe(op.method, base + unknown[0], op.path, params=unknown[1],
                            headers=_as(service, a, admin), json=body)
                count += 2
                if _shape(got, b_id) != _shape(ref, UNKNOWN) or 200 <= got.status_code < 300 \
                        and b_id in got.text:
                    diffs.append(f"  {op.label:48} B's {kind} {b_id}: {got.status_code} "
                                 f"{got.text[:100]!r}\n  {'':48} unknown id: {ref.status_code} "
                                 f"{ref.text[:100]!r}")
    return count, diffs


def _requests(op: Operation, the_id: str
              ) -> list[tuple[tuple[str, dict], tuple[str, dict]]]:
    """(B's id, an unknown id) in each id parameter of ``op`` in turn."""
    out = []
    for name in op.path_params:
        out.append(((op.url({name: the_id}), {}), (op.url({name: UNKNOWN}), {})))
    for name in op.id_query_params:
        path = op.url({p: str(uuid.uuid4()) for p in op.path_params})
        out.append(((path, {name: the_id}), (path, {name: UNKNOWN})))
    return out


def _b_unchanged(endpoints: Endpoints, b: Tenant) -> list[str]:
    """B's objects are as B left them: no probe of A's decided anything for B."""
    changed = []
    with httpx.Client(base_url=endpoints.portal_url, timeout=30,
                      headers={"Authorization": f"Bearer {b.token}"}) as c:
        for kind, ids in (("recommendations", b.recommendations),
                          ("optimizations", b.optimizations)):
            for i in ids:
                r = c.get(f"/api/v1/{kind}/{i}")
                status = r.json().get("status") if r.status_code == 200 else r.status_code
                if status != b.statuses.get(i):
                    changed.append(f"B's {kind} {i}: was {b.statuses.get(i)}, now {status}")
    return changed


@pytest.mark.req("REQ-ISO-02")
@pytest.mark.parametrize("service", ["portal", "orchestrator"])
def test_another_tenants_ids_answer_like_unknown_ids(
        service: str, tenants: Tenants, endpoints: Endpoints, portal_spec: dict,
        orchestrator_spec: dict, probe: Any, record_figure: Any) -> None:
    base = endpoints.portal_url if service == "portal" else endpoints.orchestrator_url
    spec = portal_spec if service == "portal" else orchestrator_spec
    count, diffs = _id_probes(service, base, spec, tenants, endpoints.admin_token, probe)
    record_figure(f"tenant matrix ({service}): {count} id probes over {len(tenants.b.ids)} "
                  f"of B's ids (tenants built in {tenants.built_s} s)")
    assert count > 0, f"{service}: no operation takes an id; the OpenAPI lost its parameters?"
    assert not diffs, (f"{service}: A's credentials on B's ids answered unlike an unknown id "
                       f"({len(diffs)} of {count // 2}):\n" + "\n".join(diffs))
    assert not (changed := _b_unchanged(endpoints, tenants.b)), changed


@pytest.mark.req("REQ-ISO-02")
def test_no_answer_to_a_names_anything_of_b(tenants: Tenants, endpoints: Endpoints,
                                            portal_spec: dict, probe: Any,
                                            record_figure: Any) -> None:
    a, b = tenants.a, tenants.b
    secrets_of_b = {**{i: k for i, k in b.ids.items()}, **{i: "instance" for i in b.instances},
                    b.name: "name", b.token: "token"}
    leaks, lists = [], 0
    own = {"Authorization": f"Bearer {a.token}"}
    for op in operations(portal_spec):
        if op.method != "GET" or op.auth != "customer" or op.path_params:
            continue
        r = probe("GET", endpoints.portal_url + op.path, op.path, headers=own)
        lists += 1
        assert r.status_code == 200, f"{op.label} as A: {r.status_code} {r.text[:200]}"
        leaks += [f"  {op.label}: B's {what} {value}" for value, what in secrets_of_b.items()
                  if value in r.text]
    # The same reads as B do show B's objects: the check above could have failed.
    mine = probe("GET", endpoints.portal_url + "/api/v1/recommendations",
                 headers={"Authorization": f"Bearer {b.token}"}).text
    assert all(r in mine for r in b.recommendations), "B does not see its own recommendations"
    record_figure(f"tenant matrix (lists): {lists} reads as A checked for "
                  f"{len(secrets_of_b)} of B's ids, instances, name and token")
    assert not leaks, "answers to A name B's objects:\n" + "\n".join(leaks)


@pytest.mark.req("REQ-ISO-02")
def test_a_websocket_gets_none_of_the_other_tenants_events(tenants: Tenants,
                                                           record_figure: Any) -> None:
    for me, other in ((tenants.a, tenants.b), (tenants.b, tenants.a)):
        assert len(me.events) >= 5 and any(e.get("entity_id") in me.optimizations
                                           for e in me.events), \
            f"{me.name}'s stream missed its own journey: {[e.get('type') for e in me.events]}"
        foreign = [e for e in me.events if e.get("customer_id") != me.id
                   or any(i in str(e) for i in other.ids)]
        assert not foreign, f"{me.name}'s WebSocket got {len(foreign)} of {other.name}'s " \
                            f"events while both journeys ran: {foreign[:3]}"
    record_figure(f"tenant matrix (WebSocket): {len(tenants.a.events)} + "
                  f"{len(tenants.b.events)} events, none of the other tenant's")
