"""Two tenants, each with the objects of a full journey, and the events each WebSocket got
while both journeys ran (the tenant-isolation matrix's material)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.sync.client import connect

from harness.core import wait_for
from harness.domain import Endpoints, FleetSpec, PoolSpec, aws_client, launch_fleet

# A small fleet whose spot migration validates and completes in about 20 s.
TENANT_FLEET = FleetSpec(pools=[PoolSpec(name="api", instance_type="m5.xlarge", count=2)])


@dataclass
class Tenant:
    id: str
    name: str
    token: str
    analyses: list[str] = field(default_factory=list)
    recommendations: list[str] = field(default_factory=list)
    optimizations: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> dict[str, str]:
        """Every id this tenant owns -> what it is."""
        out = {self.id: "customer"}
        for kind in ("analyses", "recommendations", "optimizations", "patterns"):
            out.update({i: kind for i in getattr(self, kind)})
        return out


@dataclass
class Tenants:
    a: Tenant
    b: Tenant
    built_s: float


def _customer(endpoints: Endpoints, prefix: str) -> Tenant:
    r = httpx.post(f"{endpoints.portal_url}/api/v1/customers", json={"name": f"{prefix}-"
                   f"{uuid.uuid4().hex[:8]}"}, headers={"X-Admin-Token": endpoints.admin_token},
                   timeout=30)
    assert r.status_code == 201, f"creating a customer: {r.status_code} {r.text}"
    body = r.json()
    return Tenant(body["id"], body["name"], body["api_token"])


def _journey(endpoints: Endpoints, t: Tenant) -> None:
    """Discovery, a cost analysis, its validated spot migration approved and completed."""
    with httpx.Client(base_url=endpoints.portal_url, timeout=60,
                      headers={"Authorization": f"Bearer {t.token}"}) as c:
        def ok(r: httpx.Response, status: int = 200) -> Any:
            assert r.status_code == status, f"{r.request.method} {r.request.url}: " \
                                            f"{r.status_code} {r.text[:300]}"
            return r.json()

        inv = ok(c.post("/api/v1/infrastructure/discover", json={"provider": "aws"}))
        t.instances = [i["instance_id"] for i in inv["instances"]]
        aid = ok(c.post("/api/v1/analyses", json={"kind": "cost"}), 202)["id"]
        t.analyses.append(aid)
        analysis = wait_for(lambda: ok(c.get(f"/api/v1/analyses/{aid}")), timeout=90,
                            until=lambda a: a["status"] != "pending",
                            description=f"analysis {aid} of {t.name} finished")
        assert analysis["recommendation_ids"], analysis
        rid = analysis["recommendation_ids"][0]
        t.recommendations.append(rid)
        wait_for(lambda: ok(c.get(f"/api/v1/recommendations/{rid}")), timeout=90,
                 until=lambda r: r["status"] == "validated",
                 description=f"recommendation {rid} of {t.name} validated")
        oid = ok(c.post(f"/api/v1/recommendations/{rid}/approve"), 202)["optimization_id"]
        t.optimizations.append(oid)
        opt = wait_for(lambda: ok(c.get(f"/api/v1/optimizations/{oid}")), timeout=120,
                       until=lambda o: o["status"] in ("completed", "rolled_back", "failed"),
                       description=f"optimization {oid} of {t.name} finished")
        assert opt["status"] == "completed", opt
        t.patterns = [p["id"] for p in ok(c.get("/api/v1/patterns"))["data"]]
        t.statuses = {aid: analysis["status"], rid: "approved", oid: opt["status"]}


class _Recorder:
    """A tenant's WebSocket events, collected in a thread while the journeys run."""

    def __init__(self, endpoints: Endpoints, t: Tenant) -> None:
        url = endpoints.portal_url.replace("http", "ws", 1) + f"/ws/events?token={t.token}"
        self.tenant = t
        self._cm = connect(url, open_timeout=10)
        self.conn = self._cm.__enter__()
        hello = json.loads(self.conn.recv(timeout=10))
        assert hello["type"] == "connected", hello
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            for msg in self.conn:
                self.tenant.events.append(json.loads(msg))
        except Exception:  # noqa: BLE001 - the connection closed: recording is over
            return

    def close(self) -> None:
        self._cm.__exit__(None, None, None)
        self.thread.join(5)


def build_tenants(endpoints: Endpoints) -> Tenants:
    start = time.monotonic()
    ec2 = aws_client(endpoints, "ec2")
    a, b = _customer(endpoints, "sec-tenant-a"), _customer(endpoints, "sec-tenant-b")
    for t in (a, b):
        launch_fleet(ec2, t.id, TENANT_FLEET)
    recorders = [_Recorder(endpoints, a), _Recorder(endpoints, b)]
    errors: list[BaseException] = []

    def run(t: Tenant) -> None:
        try:
            _journey(endpoints, t)
        except BaseException as e:  # noqa: BLE001 - re-raised in the fixture's thread
            errors.append(e)

    try:
        threads = [threading.Thread(target=run, args=(t,)) for t in (a, b)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
        # Each stream has its tenant's optimization.completed before the recording stops.
        for t in (a, b):
            wait_for(lambda t=t: any(e.get("type") == "optimization.completed"
                                     for e in list(t.events)), timeout=15,
                     description=f"{t.name}'s WebSocket got its optimization.completed")
    finally:
        for rec in recorders:
            rec.close()
    return Tenants(a, b, round(time.monotonic() - start, 1))
