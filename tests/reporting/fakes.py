"""Test doubles for the reporting tests: fake stores, and the conftest of a pytester project
whose ``stack``/``api_client``/``test_customer``/``ws_client`` fixtures are fakes.

Every fake carries the secrets below somewhere a careless report would copy them: in URLs,
headers, JSON bodies, log lines, event data, store rows. The tests grep the bundle for them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

CUSTOMER_TOKEN = "cust-tok-9f8e7d6c5b4a"
ADMIN_TOKEN = "admin-tok-1a2b3c4d5e6f"
CUSTOMER_ID = "cust-42"


# -- stores -----------------------------------------------------------------------------------

class FakeCursor:
    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.description = [(c,) for c in columns]
        self._rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class FakePostgres:
    """information_schema lists ``tables``; ``broken`` tables raise on SELECT."""

    autocommit = True

    def __init__(self, tables: dict[str, list[dict[str, Any]]], broken: tuple[str, ...] = ()
                 ) -> None:
        self.tables = tables
        self.broken = broken
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        self.closed = False

    def execute(self, query: str, params: tuple[Any, ...] = ()) -> FakeCursor:
        self.queries.append((query, params))
        if "information_schema" in query:
            return FakeCursor(["table_name"], [(t,) for t in sorted(self.tables)
                                               if t != "customers"])
        table = query.split('FROM "')[1].split('"')[0]
        if table in self.broken:
            raise RuntimeError(f'relation "{table}" is broken')
        column = query.split('WHERE "')[1].split('"')[0]
        rows = [r for r in self.tables.get(table, []) if r.get(column) == params[0]]
        columns = sorted({k for r in rows for k in r})
        return FakeCursor(columns, [tuple(r.get(c) for c in columns) for r in rows])

    def close(self) -> None:
        self.closed = True


class FakeRedis:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def scan_iter(self, match: str, count: int) -> Any:
        needle = match.strip("*")
        return (k for k in self.data if needle in k)

    def type(self, key: str) -> str:
        return "hash" if isinstance(self.data[key], dict) else "string"

    def ttl(self, key: str) -> int:
        return -1

    def get(self, key: str) -> Any:
        return self.data[key]

    def hscan_iter(self, key: str, count: int) -> Any:
        return iter(self.data[key].items())

    def hlen(self, key: str) -> int:
        return len(self.data[key])

    def close(self) -> None:
        pass


class FakeClickHouse:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.disconnected = False

    def execute(self, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if "system.columns" in query:
            return [(t,) for t in sorted(self.counts)]
        table = query.split("`")[1]
        return [(self.counts[table],)]

    def disconnect(self) -> None:
        self.disconnected = True


class FakeQdrant:
    def __init__(self, points: dict[str, list[dict[str, Any]]]) -> None:
        self.points = points

    def get_collections(self) -> Any:
        return SimpleNamespace(collections=[SimpleNamespace(name=n) for n in self.points])

    def scroll(self, collection_name: str, scroll_filter: Any, limit: int, with_payload: bool,
               with_vectors: bool) -> tuple[list[Any], None]:
        wanted = scroll_filter.must[0].match.value
        found = [SimpleNamespace(id=p["id"], payload=p["payload"])
                 for p in self.points[collection_name]
                 if p["payload"].get("customer_id") == wanted]
        return found[:limit], None

    def close(self) -> None:
        pass


class FakeEC2:
    def __init__(self, instances: list[dict[str, Any]]) -> None:
        self.instances = instances
        self.calls: list[dict[str, Any]] = []

    def describe_instances(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(kw)
        value = kw["Filters"][0]["Values"][0]
        mine = [i for i in self.instances
                if any(t["Value"] == value for t in i.get("Tags", []))]
        return {"Reservations": [{"Instances": mine}]}


def instance(iid: str, itype: str, *, spot: bool = False, state: str = "running",
             customer: str = CUSTOMER_ID) -> dict[str, Any]:
    out: dict[str, Any] = {
        "InstanceId": iid, "InstanceType": itype, "State": {"Name": state},
        "Tags": [{"Key": "optiinfra:customer", "Value": customer},
                 {"Key": "optiinfra:pool", "Value": "inference"}]}
    if spot:
        out["InstanceLifecycle"] = "spot"
    return out


def fake_store_clients(customer_id: str = CUSTOMER_ID) -> Any:
    """StoreClients whose every store holds something of ``customer_id`` (and of another)."""
    from harness.domain._snapshots import StoreClients

    pg = FakePostgres({
        "customers": [{"id": customer_id, "name": "acme", "token_hash": CUSTOMER_TOKEN}],
        "recommendations": [{"id": "rec-1", "customer_id": customer_id, "status": "validated"},
                            {"id": "rec-x", "customer_id": "other", "status": "pending"}],
        "audit": [{"id": 1, "customer_id": customer_id, "action": "approve"}],
    })
    return StoreClients(
        postgres=lambda: pg,
        redis=lambda: FakeRedis({f"optiinfra:traffic:{customer_id}": {"spot": "10"},
                                 "optiinfra:traffic:other": {"spot": "50"}}),
        clickhouse=lambda: FakeClickHouse({"workload_metrics": 120}),
        qdrant=lambda: FakeQdrant({"patterns": [
            {"id": "p-1", "payload": {"customer_id": customer_id, "kind": "spot_migration"}},
            {"id": "p-2", "payload": {"customer_id": "other"}}]}),
        ec2=lambda: FakeEC2([instance("i-1", "g5.2xlarge"),
                             instance("i-2", "g5.2xlarge", spot=True),
                             instance("i-9", "m5.large", customer="other")]),
    )


# -- the pytester project ---------------------------------------------------------------------

CONFTEST = f'''
import time

import pytest

import harness.reporting._evidence as evidence
from harness.core import ServiceStatus, StackStatus
from harness.domain import Exchange
from tests.reporting.fakes import fake_store_clients

CUSTOMER_TOKEN = "{CUSTOMER_TOKEN}"
ADMIN_TOKEN = "{ADMIN_TOKEN}"
PORTAL = "http://127.0.0.1:3001"


class FakeStack:
    def status(self):
        return StackStatus(project="e2e-fake", services=[
            ServiceStatus(name="portal", container="e2e-fake-portal-1", state="running",
                          health="healthy", ports={{3000: 3001}},
                          last_health_output='{{"status":"ok"}}', depends_on=["postgres"]),
            ServiceStatus(name="postgres", container="e2e-fake-postgres-1", state="running",
                          health="healthy", last_health_output="accepting connections"),
        ])

    def logs(self, service, since=None, **kw):
        assert since is not None, "logs must be limited to the test's window"
        return (f"2026-01-01T00:00:01Z {{service}} GET /ws/events?token={{CUSTOMER_TOKEN}} 101\\n"
                f"2026-01-01T00:00:02Z {{service}} Authorization: Bearer {{CUSTOMER_TOKEN}}\\n"
                f"2999-01-01T00:00:00Z {{service}} a line after the test's window\\n")

    def services(self):
        return ["portal", "postgres"]


class FakeClient:
    def __init__(self, exchanges, token=None, admin_token=None):
        self.exchanges = exchanges
        self.token = token
        self.admin_token = admin_token


class FakeCustomer:
    def __init__(self, client):
        self.id = "cust-42"
        self.name = "acme"
        self.token = CUSTOMER_TOKEN
        self.client = client


class FakeEvents:
    url = f"ws://127.0.0.1:3001/ws/events?token={{CUSTOMER_TOKEN}}"

    def timeline(self):
        return ("  t+  0.10s analysis.completed               entity=an-1 {{}}\\n"
                "  t+  0.20s recommendation.created          entity=rec-1 "
                f'{{{{"api_token": "{{CUSTOMER_TOKEN}}"}}}}')

    def snapshot(self):
        return [{{"type": "recommendation.created", "entity_id": "rec-1",
                 "data": {{"api_token": CUSTOMER_TOKEN}}}}]


@pytest.fixture
def stack():
    return FakeStack()


@pytest.fixture
def api_client(stack):
    now = time.time()
    exchanges = [
        Exchange(at=now, method="POST", url=PORTAL + "/api/v1/customers", status=201,
                 request_body={{"name": "acme"}},
                 response_body={{"id": "cust-42", "name": "acme", "api_token": CUSTOMER_TOKEN}},
                 elapsed_ms=12.0),
    ]
    return FakeClient(exchanges, admin_token=ADMIN_TOKEN)


@pytest.fixture
def test_customer(api_client):
    client = FakeClient(api_client.exchanges, token=CUSTOMER_TOKEN)
    client.exchanges.append(Exchange(
        at=time.time(), method="GET", url=PORTAL + "/api/v1/costs?token=" + CUSTOMER_TOKEN,
        status=200, request_body={{"api_token": CUSTOMER_TOKEN}},
        response_body={{"monthly_cost": 9800.0}}, elapsed_ms=3.5))
    return FakeCustomer(client)


@pytest.fixture
def ws_client(test_customer):
    return FakeEvents()


@pytest.fixture(autouse=True)
def fake_stores(monkeypatch):
    monkeypatch.setattr(evidence, "store_clients", lambda item: fake_store_clients())
'''
