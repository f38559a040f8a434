"""Workload metrics in ClickHouse 18.16: one row per customer, pool and variant per second.

18.16 has no query parameters: values are substituted client-side by clickhouse-driver's
``%(name)s`` formatting, which quotes and escapes them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime

from clickhouse_driver import Client

from .gates import PoolStats
from .scaling import PoolShape

TABLE = "workload_metrics"
DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    ts DateTime,
    customer_id String,
    pool String,
    variant String,
    optimization_id String,
    traffic_pct UInt8,
    instances UInt16,
    instance_type String,
    latency_p50_ms Float64,
    latency_p95_ms Float64,
    throughput_rps Float64,
    error_rate Float64,
    gpu_utilization Float64,
    utilization Float64,
    quality_score Float64
) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(ts) ORDER BY (customer_id, ts)
"""


@dataclass(frozen=True)
class Sample:
    ts: datetime
    customer_id: str
    pool: str
    variant: str  # on_demand | spot
    optimization_id: str
    traffic_pct: int
    instances: int
    instance_type: str
    latency_p50_ms: float
    latency_p95_ms: float
    throughput_rps: float
    error_rate: float
    gpu_utilization: float
    utilization: float
    quality_score: float


COLUMNS = ", ".join(Sample.__dataclass_fields__)


class Metrics:
    """Thread-safe by giving each thread its own driver client (the driver is not)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._local = threading.local()

    @property
    def client(self) -> Client:
        c = getattr(self._local, "client", None)
        if c is None:
            c = self._local.client = Client(self.host, port=self.port, connect_timeout=3,
                                            send_receive_timeout=10)
        return c

    def ensure_schema(self) -> None:
        self.client.execute(DDL)

    def ping(self) -> bool:
        try:
            return self.client.execute("SELECT 1") == [(1,)]
        except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
            return False

    def insert(self, samples: Sequence[Sample]) -> None:
        if samples:
            self.client.execute(f"INSERT INTO {TABLE} ({COLUMNS}) VALUES",
                                [astuple(s) for s in samples])

    def _stats(self, where: str, params: dict, group_by_pool: bool) -> dict[str, PoolStats]:
        key = "pool" if group_by_pool else "''"
        rows = self.client.execute(
            f"SELECT {key}, count(), avg(latency_p95_ms), avg(error_rate), "
            f"sum(quality_score * throughput_rps) / greatest(sum(throughput_rps), 0.000001), "
            f"avg(utilization) FROM {TABLE} WHERE {where} GROUP BY {key}", params)
        return {r[0]: PoolStats(r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def pool_stats(self, customer_id: str, window_s: int,
                   variant: str | None = None, current_size: bool = False
                   ) -> dict[str, PoolStats]:
        """Per pool over the last ``window_s`` seconds, for samples carrying traffic.
        ``current_size``: only samples taken at each pool's latest instance count (a pool
        that was just resized is judged at its new size)."""
        where = "customer_id = %(c)s AND ts >= now() - %(w)s AND throughput_rps > 0"
        params: dict = {"c": customer_id, "w": int(window_s)}
        if variant:
            where += " AND variant = %(v)s"
            params["v"] = variant
        if current_size:
            where += (f" AND (pool, instances) IN (SELECT pool, argMax(instances, ts) FROM "
                      f"{TABLE} WHERE {where} GROUP BY pool)")
        return self._stats(where, params, True)

    def fleet_stats(self, customer_id: str, window_s: int) -> PoolStats:
        where = "customer_id = %(c)s AND ts >= now() - %(w)s AND throughput_rps > 0"
        got = self._stats(where, {"c": customer_id, "w": int(window_s)}, False)
        return got.get("", PoolStats(0))

    def step_stats(self, customer_id: str, optimization_id: str,
                   traffic_pct: int) -> dict[str, PoolStats]:
        """Per pool: the spot variant's samples while the rollout held ``traffic_pct``."""
        where = ("customer_id = %(c)s AND optimization_id = %(o)s AND traffic_pct = %(p)s "
                 "AND variant = 'spot' AND throughput_rps > 0")
        return self._stats(where, {"c": customer_id, "o": optimization_id,
                                   "p": int(traffic_pct)}, True)

    def pool_shapes(self, customer_id: str, window_s: int) -> list[PoolShape]:
        """Per pool (on-demand variant): instance type and count now, load and p95 over the
        window."""
        rows = self.client.execute(
            f"SELECT pool, argMax(instance_type, ts), argMax(instances, ts), avg(utilization), "
            f"avg(latency_p95_ms), count() FROM {TABLE} WHERE customer_id = %(c)s AND "
            f"ts >= now() - %(w)s AND variant = 'on_demand' AND throughput_rps > 0 "
            f"GROUP BY pool ORDER BY pool", {"c": customer_id, "w": int(window_s)})
        return [PoolShape(r[0], r[1], int(r[2]), r[3], r[4], r[5]) for r in rows]

    def pool_latency_at_size(self, customer_id: str, pool: str, instances: int,
                             window_s: int) -> PoolStats:
        """The pool's samples once it runs with ``instances`` on-demand instances."""
        where = ("customer_id = %(c)s AND pool = %(p)s AND instances = %(n)s AND "
                 "variant = 'on_demand' AND ts >= now() - %(w)s AND throughput_rps > 0")
        got = self._stats(where, {"c": customer_id, "p": pool, "n": int(instances),
                                  "w": int(window_s)}, True)
        return got.get(pool, PoolStats(0))

    def summary(self, customer_id: str, window_s: int) -> dict:
        rows = self.client.execute(
            f"SELECT count(), "
            f"sum(latency_p95_ms * throughput_rps) / greatest(sum(throughput_rps), 0.000001), "
            f"sum(quality_score * throughput_rps) / greatest(sum(throughput_rps), 0.000001), "
            f"sum(throughput_rps) / greatest(uniqExact(ts), 1), "
            f"sum(error_rate * throughput_rps) / greatest(sum(throughput_rps), 0.000001) "
            f"FROM {TABLE} WHERE customer_id = %(c)s AND ts >= now() - %(w)s",
            {"c": customer_id, "w": int(window_s)})
        n, p95, q, rps, err = rows[0]
        if not n:
            return {"samples": 0, "latency_p95_ms": None, "quality_score": None,
                    "throughput_rps": 0.0, "error_rate": None}
        return {"samples": n, "latency_p95_ms": round(p95, 2), "quality_score": round(q, 4),
                "throughput_rps": round(rps, 2), "error_rate": round(err, 5)}
