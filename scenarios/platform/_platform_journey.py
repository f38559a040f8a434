"""A client of OptiInfra written from the contract only: plain HTTP, WebSocket and boto3.

Used by the platform scenarios; imports nothing of ``optiinfra``. Waits poll to deadlines on
``harness.core.wait_for``.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from websockets.sync.client import connect

from harness.core import wait_for as core_wait_for

PORTAL_URL = os.environ.get("E2E_PORTAL_URL", "http://127.0.0.1:3001")
AWS_URL = os.environ.get("E2E_AWS_URL", "http://127.0.0.1:4567")
QDRANT_URL = os.environ.get("E2E_QDRANT_URL", "http://127.0.0.1:6334")
ADMIN_TOKEN = os.environ.get("E2E_ADMIN_TOKEN", "e2e-admin-token")
REGION = "us-east-1"
FLEET = (("g5.2xlarge", 4, "inference"), ("m5.xlarge", 2, "api"))


def wait_for(what: str, fn: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Call ``fn`` until it returns something truthy: the harness's one wait engine (its
    timeout message: how long, how often, the values seen), in this module's argument order.
    Any exception of ``fn`` (a failed ``json_ok``, an HTTP error) fails at once."""
    return core_wait_for(fn, timeout=timeout, interval=interval, description=what)


@dataclass
class Customer:
    id: str
    name: str
    token: str
    http: httpx.Client

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.http.post(path, json=body, **kw)



def portal(token: str | None = None, **headers: str) -> httpx.Client:
    h = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=PORTAL_URL, headers={**h, **headers}, timeout=60)


def new_customer(prefix: str = "journey") -> Customer:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    with portal(**{"X-Admin-Token": ADMIN_TOKEN}) as admin:
        r = admin.post("/api/v1/customers", json={"name": name})
    assert r.status_code == 201, r.text
    body = r.json()
    return Customer(body["id"], body["name"], body["api_token"], portal(body["api_token"]))


def ec2(region: str = REGION):  # boto3 clients are untyped
    return boto3.client("ec2", endpoint_url=AWS_URL, region_name=region,
                        aws_access_key_id="test", aws_secret_access_key="test")


# An AMI of the simulator's default set. Listing every image (1300+) takes a minute on a
# loaded machine, past boto3's read timeout; asking for this one is instant.
KNOWN_AMI = "ami-12c6146b"


@functools.cache
def image_id(region: str) -> str:
    return ec2(region).describe_images(ImageIds=[KNOWN_AMI])["Images"][0]["ImageId"]


def launch_fleet(customer_id: str, fleet=FLEET, region: str = REGION) -> list[str]:
    client, ids = ec2(region), []
    image = image_id(region)
    for itype, count, pool in fleet:
        r = client.run_instances(
            ImageId=image, MinCount=count, MaxCount=count, InstanceType=itype,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": "optiinfra:customer", "Value": customer_id},
                {"Key": "optiinfra:pool", "Value": pool}]}])
        ids += [i["InstanceId"] for i in r["Instances"]]
    return ids


def live_instances(customer_id: str, region: str = REGION) -> list[dict]:
    resp = ec2(region).describe_instances(Filters=[
        {"Name": "tag:optiinfra:customer", "Values": [customer_id]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    return [i for r in resp["Reservations"] for i in r["Instances"]]


def close_customers(customers: list[Customer], region: str = REGION) -> None:
    """Done with these customers: close their clients and terminate their instances (the
    platform's spot ones too), or the workload would simulate them for the rest of the
    stack's life and every later run on a warm stack would be slower. One query and one
    terminate call for all: the simulator scans every instance it ever had per query."""
    for c in customers:
        c.http.close()
    if not customers:
        return
    client = ec2(region)
    pages = client.get_paginator("describe_instances").paginate(Filters=[
        {"Name": "tag:optiinfra:customer", "Values": [c.id for c in customers]},
        {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    ids = [i["InstanceId"] for page in pages for r in page["Reservations"]
           for i in r["Instances"]]
    if ids:
        client.terminate_instances(InstanceIds=ids)


class EventRecorder:
    """Collects a customer's WebSocket events in a thread until closed."""

    def __init__(self, token: str) -> None:
        self.events: list[dict] = []
        self._conn = connect(f"{PORTAL_URL.replace('http', 'ws', 1)}/ws/events?token={token}",
                             open_timeout=10)
        self._ws = self._conn.__enter__()
        hello = json.loads(self._ws.recv(timeout=10))
        assert hello["type"] == "connected", hello
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for msg in self._ws:
                self.events.append(json.loads(msg))
        except Exception:  # noqa: BLE001 - closed
            return

    def of(self, entity_id: str) -> list[dict]:
        return [e for e in list(self.events) if e.get("entity_id") == entity_id]

    def close(self) -> None:
        self._conn.__exit__(None, None, None)
        self._thread.join(timeout=5)


def json_ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


@dataclass
class Journey:
    customer: Customer
    timings: dict[str, float] = field(default_factory=dict)
    cost_before: float = 0.0
    cost_after: float = 0.0
    analysis: dict = field(default_factory=dict)
    recommendation: dict = field(default_factory=dict)
    optimization: dict = field(default_factory=dict)


def run_journey(c: Customer, timeout: float = 180, fleet=FLEET) -> Journey:
    """Phases 1-8 of the seed's spot migration, for one fresh customer with ``fleet``."""
    j, t0 = Journey(c), time.monotonic()
    # Phase 1: discover and record the initial cost.
    inv = json_ok(c.post("/api/v1/infrastructure/discover", {"provider": "aws",
                                                             "region": REGION}))
    assert len(inv["instances"]) == sum(count for _, count, _ in fleet), inv
    j.cost_before = json_ok(c.get("/api/v1/costs"))["monthly_cost"]
    # Phase 2: the cost agent's analysis.
    a = json_ok(c.post("/api/v1/analyses", {"kind": "cost"}), 202)
    j.analysis = wait_for("analysis completed", lambda: (
        lambda b: b if b["status"] in ("completed", "failed") else None)(
        json_ok(c.get(f"/api/v1/analyses/{a['id']}"))), timeout)
    assert j.analysis["status"] == "completed", j.analysis
    assert j.analysis["recommendation_ids"], j.analysis
    rid = j.analysis["recommendation_ids"][0]
    # Phases 3-4: the recommendation and its validation by the agents.
    j.recommendation = wait_for("recommendation decided", lambda: (
        lambda b: b if b["status"] != "pending" else None)(
        json_ok(c.get(f"/api/v1/recommendations/{rid}"))), timeout)
    j.timings["validated"] = time.monotonic() - t0
    assert j.recommendation["status"] == "validated", j.recommendation
    # Phase 5: the customer approves; phase 6: blue-green execution.
    oid = json_ok(c.post(f"/api/v1/recommendations/{rid}/approve"), 202)["optimization_id"]
    j.optimization = wait_for("optimization finished", lambda: (
        lambda b: b if b["status"] in ("completed", "rolled_back", "failed") else None)(
        json_ok(c.get(f"/api/v1/optimizations/{oid}"))), timeout)
    j.timings["finished"] = time.monotonic() - t0
    j.cost_after = json_ok(c.get("/api/v1/costs"))["monthly_cost"]
    return j


def check_journey(j: Journey) -> None:
    """The contract's done-criteria for one journey (phases 4-8)."""
    rec, opt = j.recommendation, j.optimization
    assert rec["kind"] == "spot_migration"
    approvals = {v["agent"] for v in rec["validations"] if v["verdict"] == "approve"}
    assert {"performance", "application"} <= approvals and len(approvals) >= 2, rec
    assert 0 < rec["confidence"] <= 1 and rec["estimated_monthly_savings"] > 0
    assert opt["status"] == "completed", opt
    traffic = [s["traffic_pct"] for s in opt["steps"]]
    for pct in (10, 50, 100):
        assert pct in traffic, traffic
    assert all(s["status"] == "completed" and s["started_at"] and s["finished_at"]
               for s in opt["steps"]), opt["steps"]
    assert opt["quality_score"] is not None and opt["quality_score"] >= 0.90, opt
    assert j.cost_after <= 0.70 * j.cost_before, (j.cost_before, j.cost_after)
    predicted, actual = opt["predicted_monthly_savings"], opt["actual_monthly_savings"]
    assert actual is not None and abs(actual - predicted) <= 0.20 * predicted, (predicted, actual)
    assert opt["pattern_id"], opt


def qdrant_point(collection: str, point_id: str) -> dict | None:
    """Retrieve a point as qdrant-client's ``retrieve`` does (POST .../points with ids)."""
    r = httpx.post(f"{QDRANT_URL}/collections/{collection}/points",
                   json={"ids": [point_id], "with_payload": True}, timeout=10)
    assert r.status_code == 200, r.text
    got = r.json()["result"]
    return got[0] if got else None
