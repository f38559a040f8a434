"""What a customer owns in each store, with fake clients: best effort, store by store."""

from __future__ import annotations

import pytest

from harness.domain._snapshots import (
    StoreClients,
    clickhouse_snapshot,
    postgres_snapshot,
    snapshot_customer,
)
from tests.reporting.fakes import (
    CUSTOMER_ID,
    FakeClickHouse,
    FakePostgres,
    fake_store_clients,
)

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-01")]


def test_every_store_shows_only_the_customers_things():
    snap = snapshot_customer(CUSTOMER_ID, fake_store_clients())
    by_store = {s.store: s for s in snap.stores}
    assert list(by_store) == ["postgres", "redis", "clickhouse", "qdrant", "simulator"]
    assert all(s.error == "" for s in snap.stores)
    pg = by_store["postgres"].data["tables"]
    assert list(pg) == ["customers", "audit", "recommendations"]
    assert [r["id"] for r in pg["recommendations"]["rows"]] == ["rec-1"]
    assert pg["customers"]["rows"][0]["name"] == "acme"
    assert list(by_store["redis"].data["keys"]) == [f"optiinfra:traffic:{CUSTOMER_ID}"]
    assert by_store["clickhouse"].data["tables"] == {"workload_metrics": {"count": 120}}
    assert [p["id"] for p in by_store["qdrant"].data["collections"]["patterns"]["points"]] == \
        ["p-1"]
    sim = by_store["simulator"].data
    assert sim["by_lifecycle_state"] == {"on-demand/running": 1, "spot/running": 1}
    assert snap.brief().splitlines()[0] == "postgres: customers=1, audit=1, recommendations=1"


def test_a_store_that_is_down_never_hides_the_others():
    clients = fake_store_clients()

    def refused():
        raise ConnectionRefusedError("connection refused")

    clients.redis = refused
    clients.qdrant = None  # left out
    snap = snapshot_customer(CUSTOMER_ID, clients)
    by_store = {s.store: s for s in snap.stores}
    assert list(by_store) == ["postgres", "redis", "clickhouse", "simulator"]
    assert by_store["redis"].error == "ConnectionRefusedError: connection refused"
    assert "redis: ERROR ConnectionRefusedError" in snap.brief()
    assert by_store["simulator"].data["instances"]


def test_a_failing_table_never_hides_the_other_tables():
    pg = FakePostgres({"audit": [{"customer_id": "c"}], "recommendations": []},
                      broken=("audit",))
    out = postgres_snapshot(pg, "c")
    assert out["tables"]["audit"] == {"error": 'RuntimeError: relation "audit" is broken'}
    assert out["tables"]["recommendations"]["count"] == 0
    # table names are quoted identifiers and the customer id is a parameter, never inlined
    assert ('SELECT * FROM "recommendations" WHERE "customer_id" = %s LIMIT 201', ("c",)) \
        in pg.queries


def test_row_limit_is_reported_as_truncation():
    pg = FakePostgres({"audit": [{"customer_id": "c", "n": i} for i in range(5)]})
    table = postgres_snapshot(pg, "c", limit=3)["tables"]["audit"]
    assert (table["count"], table["truncated"], len(table["rows"])) == (3, True, 3)


def test_clickhouse_counts_per_table_with_client_side_parameters():
    ch = FakeClickHouse({"workload_metrics": 7, "events": 0})
    assert clickhouse_snapshot(ch, "c")["tables"] == {"events": {"count": 0},
                                                      "workload_metrics": {"count": 7}}


def test_clients_are_closed_after_the_snapshot():
    pg = FakePostgres({})
    ch = FakeClickHouse({})
    snapshot_customer("c", StoreClients(postgres=lambda: pg, clickhouse=lambda: ch))
    assert pg.closed and ch.disconnected
