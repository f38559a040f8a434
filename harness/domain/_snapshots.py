"""What one customer owns in each store, for a failure bundle: best effort, store by store.

    snap = snapshot_customer(customer.id, StoreClients.for_endpoints(endpoints))
    for part in snap.stores: bundle.json(f"snapshots/{part.store}.json", part)

- postgres:   every table in schema ``public`` with a ``customer_id`` column (found through
              information_schema): its rows for the customer (200 per table), and the
              ``customers`` row itself;
- redis:      keys matching ``*<customer id>*`` (SCAN, 500 keys) with type, TTL and a preview;
- clickhouse: every table of the current database with a ``customer_id`` column: count();
- qdrant:     every collection: points whose payload ``customer_id`` is the customer (100);
- simulator:  EC2 instances tagged ``optiinfra:customer=<id>``: type, lifecycle, state.

Each store, and each table inside one, is wrapped on its own: a store that is down or a
table that fails shows its error and never hides the others. Clients come from zero-argument
factories (``StoreClients``) so tests inject fakes; real ones use short timeouts, because a
bundle is written while something is already wrong.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._factories import CUSTOMER_TAG, POOL_TAG
from ._spec import AWS_REGION
from ._stores import Endpoints

PG_ROW_LIMIT = 200
REDIS_KEY_LIMIT = 500
QDRANT_POINT_LIMIT = 100
EC2_INSTANCE_LIMIT = 500
_PREVIEW_ITEMS = 10
_PREVIEW_CHARS = 300

Factory = Callable[[], Any]


@dataclass
class StoreSnapshot:
    store: str
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    took_s: float = 0.0

    @property
    def brief(self) -> str:
        if self.error:
            return f"{self.store}: ERROR {self.error[:120]}"
        return f"{self.store}: {self.data.get('summary', 'ok')}"


@dataclass
class CustomerSnapshot:
    customer_id: str
    stores: list[StoreSnapshot]

    def brief(self) -> str:
        return "\n".join(s.brief for s in self.stores)


@dataclass
class StoreClients:
    """A factory per store; ``None`` leaves that store out."""

    postgres: Factory | None = None
    redis: Factory | None = None
    clickhouse: Factory | None = None
    qdrant: Factory | None = None
    ec2: Factory | None = None

    @classmethod
    def for_endpoints(cls, ep: Endpoints, region: str = AWS_REGION) -> StoreClients:
        def postgres() -> Any:
            import psycopg

            return psycopg.connect(ep.postgres_dsn, connect_timeout=3, autocommit=True)

        def redis() -> Any:
            import redis as redis_lib

            return redis_lib.Redis.from_url(ep.redis_url, socket_timeout=5,
                                            socket_connect_timeout=3, decode_responses=True)

        def clickhouse() -> Any:
            from clickhouse_driver import Client

            return Client(host=ep.host, port=ep.clickhouse_native_port, connect_timeout=3,
                          send_receive_timeout=10)

        def qdrant() -> Any:
            from qdrant_client import QdrantClient

            return QdrantClient(url=ep.qdrant_url, timeout=5, check_compatibility=False)

        def ec2() -> Any:
            import boto3
            from botocore.config import Config

            return boto3.client(
                "ec2", endpoint_url=ep.aws_url, region_name=region, aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(connect_timeout=3, read_timeout=15, retries={"max_attempts": 1}))

        return cls(postgres=postgres, redis=redis, clickhouse=clickhouse, qdrant=qdrant,
                   ec2=ec2)


def snapshot_customer(customer_id: str, clients: StoreClients) -> CustomerSnapshot:
    """Every store's view of the customer; a failing store carries its error instead."""
    parts: list[tuple[str, Factory | None, Callable[[Any, str], dict[str, Any]]]] = [
        ("postgres", clients.postgres, postgres_snapshot),
        ("redis", clients.redis, redis_snapshot),
        ("clickhouse", clients.clickhouse, clickhouse_snapshot),
        ("qdrant", clients.qdrant, qdrant_snapshot),
        ("simulator", clients.ec2, simulator_snapshot)]
    stores = []
    for name, factory, take in parts:
        if factory is None:
            continue
        started = time.monotonic()
        snap = StoreSnapshot(name)
        client = None
        try:
            client = factory()
            snap.data = take(client, customer_id)
        except Exception as exc:  # noqa: BLE001 - one store down must not hide the others
            snap.error = f"{type(exc).__name__}: {exc}"
        finally:
            _close(client)
            snap.took_s = round(time.monotonic() - started, 3)
        stores.append(snap)
    return CustomerSnapshot(customer_id, stores)


def _close(client: Any) -> None:
    for method in ("close", "disconnect"):
        fn = getattr(client, method, None)
        if callable(fn):
            with contextlib.suppress(Exception):  # closing a client of a sick store
                fn()
            return


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).strip()[:500]}"


# -- postgres ---------------------------------------------------------------------------------

def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_rows(conn: Any, query: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    cur = conn.execute(query, params)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def postgres_snapshot(conn: Any, customer_id: str, limit: int = PG_ROW_LIMIT) -> dict[str, Any]:
    """Rows of every public table with a customer_id column (and the customer's own row)."""
    tables = [r["table_name"] for r in _pg_rows(
        conn, "SELECT DISTINCT table_name FROM information_schema.columns "
              "WHERE table_schema = 'public' AND column_name = 'customer_id' "
              "ORDER BY table_name", ())]
    out: dict[str, Any] = {}
    lookups = [(t, "customer_id") for t in tables]
    if "customers" not in tables:
        lookups.insert(0, ("customers", "id"))  # the customer row itself, when there is one
    for table, column in lookups:
        try:
            rows = _pg_rows(conn, f"SELECT * FROM {_ident(table)} WHERE {_ident(column)} = %s "
                                  f"LIMIT {int(limit) + 1}", (customer_id,))
            out[table] = {"count": min(len(rows), limit), "truncated": len(rows) > limit,
                          "rows": rows[:limit]}
        except Exception as exc:  # noqa: BLE001 - one table must not hide the others
            out[table] = {"error": _error(exc)}
            _pg_recover(conn)
    counts = {t: v.get("count", "error") for t, v in out.items()}
    return {"summary": ", ".join(f"{t}={c}" for t, c in counts.items()) or "no tables",
            "tables": out}


def _pg_recover(conn: Any) -> None:
    # Outside autocommit a failed statement aborts the transaction; start afresh.
    if not getattr(conn, "autocommit", True):
        with contextlib.suppress(Exception):
            conn.rollback()


# -- redis ------------------------------------------------------------------------------------

def _clip(value: Any) -> Any:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _PREVIEW_CHARS else text[:_PREVIEW_CHARS] + "..."


def _redis_preview(r: Any, key: str, kind: str) -> Any:
    n = _PREVIEW_ITEMS
    if kind == "string":
        return _clip(r.get(key))
    if kind == "hash":
        items = itertools.islice(r.hscan_iter(key, count=n), n)
        return {k: _clip(v) for k, v in items} | {"__len__": r.hlen(key)}
    if kind == "list":
        return {"len": r.llen(key), "head": [_clip(v) for v in r.lrange(key, 0, n - 1)]}
    if kind == "set":
        return {"len": r.scard(key), "some": [_clip(v) for v in
                                               itertools.islice(r.sscan_iter(key, count=n), n)]}
    if kind == "zset":
        return {"len": r.zcard(key), "head": [[_clip(m), s] for m, s in
                                               r.zrange(key, 0, n - 1, withscores=True)]}
    if kind == "stream":
        return {"len": r.xlen(key), "last": [[i, {k: _clip(v) for k, v in f.items()}]
                                              for i, f in r.xrevrange(key, count=3)]}
    return None


def redis_snapshot(r: Any, customer_id: str, limit: int = REDIS_KEY_LIMIT) -> dict[str, Any]:
    """Keys that name the customer, with type, TTL and a short preview of the value."""
    keys = sorted(itertools.islice(r.scan_iter(match=f"*{customer_id}*", count=500), limit + 1))
    out: dict[str, Any] = {}
    for key in keys[:limit]:
        try:
            kind = r.type(key)
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            out[key] = {"type": kind, "ttl": r.ttl(key), "preview": _redis_preview(r, key, kind)}
        except Exception as exc:  # noqa: BLE001 - one key (expired, odd type) is not fatal
            out[key] = {"error": _error(exc)}
    return {"summary": f"{min(len(keys), limit)} keys" + (" (truncated)" if len(keys) > limit
                                                            else ""),
            "pattern": f"*{customer_id}*", "truncated": len(keys) > limit, "keys": out}


# -- clickhouse -------------------------------------------------------------------------------

def clickhouse_snapshot(ch: Any, customer_id: str) -> dict[str, Any]:
    """count() of the customer's rows in every table of the current database with customer_id."""
    tables = [row[0] for row in ch.execute(
        "SELECT table FROM system.columns WHERE database = currentDatabase() "
        "AND name = 'customer_id' ORDER BY table")]
    out: dict[str, Any] = {}
    for table in tables:
        quoted = "`" + table.replace("`", "\\`") + "`"
        try:
            # 18.16 has no server-side parameters: clickhouse-driver quotes %(c)s client-side.
            [(count,)] = ch.execute(f"SELECT count() FROM {quoted} WHERE customer_id = %(c)s",
                                    {"c": customer_id})
            out[table] = {"count": int(count)}
        except Exception as exc:  # noqa: BLE001 - one table must not hide the others
            out[table] = {"error": _error(exc)}
    return {"summary": ", ".join(f"{t}={v.get('count', 'error')}" for t, v in out.items())
            or "no tables with customer_id", "tables": out}


# -- qdrant -----------------------------------------------------------------------------------

def _customer_filter(customer_id: str) -> Any:
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(
        key="customer_id", match=models.MatchValue(value=customer_id))])


def qdrant_snapshot(q: Any, customer_id: str, limit: int = QDRANT_POINT_LIMIT
                    ) -> dict[str, Any]:
    """Points of every collection whose payload customer_id is the customer."""
    names = sorted(c.name for c in q.get_collections().collections)
    out: dict[str, Any] = {}
    for name in names:
        try:
            points, _next = q.scroll(collection_name=name,
                                     scroll_filter=_customer_filter(customer_id),
                                     limit=limit, with_payload=True, with_vectors=False)
            out[name] = {"count": len(points), "truncated": _next is not None,
                         "points": [{"id": str(p.id), "payload": p.payload} for p in points]}
        except Exception as exc:  # noqa: BLE001 - one collection must not hide the others
            out[name] = {"error": _error(exc)}
    return {"summary": ", ".join(f"{n}={v.get('count', 'error')}" for n, v in out.items())
            or "no collections", "collections": out}


# -- the AWS simulator ------------------------------------------------------------------------

def simulator_snapshot(ec2: Any, customer_id: str, limit: int = EC2_INSTANCE_LIMIT
                       ) -> dict[str, Any]:
    """The customer's EC2 instances in every state: id, type, lifecycle, state, pool, tags."""
    filters = [{"Name": f"tag:{CUSTOMER_TAG}", "Values": [customer_id]}]
    instances: list[dict[str, Any]] = []
    token: str | None = None
    while len(instances) < limit:
        page = ec2.describe_instances(Filters=filters, **({"NextToken": token} if token else {}))
        for reservation in page.get("Reservations", []):
            for i in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                instances.append({
                    "instance_id": i.get("InstanceId"), "instance_type": i.get("InstanceType"),
                    "lifecycle": i.get("InstanceLifecycle") or "on-demand",
                    "state": (i.get("State") or {}).get("Name"), "pool": tags.get(POOL_TAG),
                    "launch_time": i.get("LaunchTime"), "tags": tags})
        token = page.get("NextToken")
        if not token:
            break
    by_state: dict[str, int] = {}
    for i in instances:
        key = f"{i['lifecycle']}/{i['state']}"
        by_state[key] = by_state.get(key, 0) + 1
    return {"summary": f"{len(instances)} instances "
                       + (f"({', '.join(f'{k}={v}' for k, v in sorted(by_state.items()))})"
                          if by_state else ""),
            "tag": f"{CUSTOMER_TAG}={customer_id}", "by_lifecycle_state": by_state,
            "instances": instances[:limit]}
