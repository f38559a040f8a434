"""SQL of the orchestrator: reads as public models, writes with audit and outbox rows.

Every write helper takes the caller's connection, so a state change, its audit entry, and the
tasks and events it causes commit together or not at all.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from ..common.domain import conflicting_pools, merge_findings
from ..common.messages import EVENT_STREAM, Event, Task, task_stream
from ..common.models import (
    AnalysisPublic,
    AuditEntry,
    OptimizationPublic,
    RecommendationPublic,
    StepPublic,
    ValidationPublic,
)


class NotFound(LookupError):
    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id} not found")


async def audit(conn: AsyncConnection, customer_id: str, entity_type: str, entity_id: str,
                action: str, from_status: str | None = None, to_status: str | None = None,
                data: dict | None = None) -> None:
    await conn.execute(
        "INSERT INTO audit (customer_id, entity_type, entity_id, action, from_status, "
        "to_status, data) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (customer_id, entity_type, entity_id, action, from_status, to_status, Jsonb(data or {})))


async def emit(conn: AsyncConnection, event_type: str, customer_id: str, entity_id: str,
               **data: Any) -> None:
    ev = Event(type=event_type, customer_id=customer_id, entity_id=entity_id, data=data)
    await conn.execute("INSERT INTO outbox (stream, body) VALUES (%s, %s)",
                       (EVENT_STREAM, Jsonb(ev.model_dump(mode="json"))))


async def enqueue(conn: AsyncConnection, task: Task) -> None:
    await conn.execute("INSERT INTO outbox (stream, body) VALUES (%s, %s)",
                       (task_stream(task.agent), Jsonb(task.model_dump(mode="json"))))


async def first_time(conn: AsyncConnection, task_id: str) -> bool:
    """Record a result's task id; False when it was applied before (a redelivery)."""
    cur = await conn.execute("INSERT INTO processed_tasks (task_id) VALUES (%s) "
                             "ON CONFLICT DO NOTHING RETURNING task_id", (task_id,))
    return await cur.fetchone() is not None


async def customer_exists(conn: AsyncConnection, customer_id: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM customers WHERE id = %s", (customer_id,))
    return await cur.fetchone() is not None


async def one(conn: AsyncConnection, sql: str, params: tuple, entity: str,
              entity_id: str) -> dict:
    cur = await conn.execute(sql, params)
    row = await cur.fetchone()
    if row is None:
        raise NotFound(entity, entity_id)
    return row


# ---- reads -------------------------------------------------------------------------------

async def analysis(conn: AsyncConnection, customer_id: str, aid: str) -> AnalysisPublic:
    row = await one(conn, "SELECT * FROM analyses WHERE id = %s AND customer_id = %s",
                    (aid, customer_id), "analysis", aid)
    cur = await conn.execute("SELECT id FROM recommendations WHERE analysis_id = %s "
                             "ORDER BY created_at", (aid,))
    recs = [r["id"] for r in await cur.fetchall()]
    return AnalysisPublic(**{k: row[k] for k in ("id", "kind", "region", "status", "agents",
                                                  "results", "error", "created_at",
                                                  "updated_at")}, recommendation_ids=recs,
                          findings=merge_findings(row["results"], row["agents"]))


def _recommendation(row: dict, validations: list[dict]) -> RecommendationPublic:
    return RecommendationPublic(
        id=row["id"], kind=row["kind"], status=row["status"], analysis_id=row["analysis_id"],
        estimated_monthly_savings=float(row["estimated_monthly_savings"]),
        confidence=row["confidence"], risk=row["risk"], details=row["details"],
        validations=[ValidationPublic(**v) for v in validations],
        required_validators=row["required_validators"],
        similar_patterns=row["similar_patterns"], reason=row["reason"],
        optimization_id=row.get("optimization_id"), created_at=row["created_at"],
        updated_at=row["updated_at"])


REC_SELECT = ("SELECT r.*, o.id AS optimization_id FROM recommendations r "
              "LEFT JOIN optimizations o ON o.recommendation_id = r.id ")


async def recommendations(conn: AsyncConnection, customer_id: str, status: str | None,
                          kind: str | None, rec_id: str | None = None,
                          limit: int = 200) -> list[RecommendationPublic]:
    where, params = ["r.customer_id = %s"], [customer_id]
    for col, val in (("r.status", status), ("r.kind", kind), ("r.id", rec_id)):
        if val is not None:
            where.append(f"{col} = %s")
            params.append(val)
    cur = await conn.execute(REC_SELECT + "WHERE " + " AND ".join(where)
                             + " ORDER BY r.created_at DESC LIMIT %s", (*params, limit))
    rows = await cur.fetchall()
    if not rows:
        return []
    cur = await conn.execute(
        "SELECT recommendation_id, agent, verdict, reason, data, created_at FROM validations "
        "WHERE recommendation_id = ANY(%s) ORDER BY created_at", ([r["id"] for r in rows],))
    by_rec: dict[str, list[dict]] = {}
    for v in await cur.fetchall():
        by_rec.setdefault(v.pop("recommendation_id"), []).append(v)
    cur = await conn.execute("SELECT id, details FROM recommendations WHERE customer_id = %s "
                             "AND status IN ('pending', 'validated')", (customer_id,))
    open_recs = await cur.fetchall()
    out = []
    for r in rows:
        rec = _recommendation(r, by_rec.get(r["id"], []))
        if r["status"] in ("pending", "validated"):
            rec.conflicts_with = sorted(o["id"] for o in open_recs if o["id"] != r["id"]
                                        and conflicting_pools(r["details"], o["details"]))
        out.append(rec)
    return out


async def recommendation(conn: AsyncConnection, customer_id: str,
                         rec_id: str) -> RecommendationPublic:
    got = await recommendations(conn, customer_id, None, None, rec_id)
    if not got:
        raise NotFound("recommendation", rec_id)
    return got[0]


async def optimizations(conn: AsyncConnection, customer_id: str | None,
                        opt_id: str | None = None, limit: int = 200) -> list[OptimizationPublic]:
    where, params = [], []
    if customer_id is not None:
        where.append("customer_id = %s")
        params.append(customer_id)
    if opt_id is not None:
        where.append("id = %s")
        params.append(opt_id)
    sql = "SELECT * FROM optimizations" + (" WHERE " + " AND ".join(where) if where else "")
    cur = await conn.execute(sql + " ORDER BY created_at DESC LIMIT %s", (*params, limit))
    rows = await cur.fetchall()
    if not rows:
        return []
    cur = await conn.execute("SELECT * FROM optimization_steps WHERE optimization_id = ANY(%s) "
                             "ORDER BY seq", ([r["id"] for r in rows],))
    steps: dict[str, list[StepPublic]] = {}
    for s in await cur.fetchall():
        steps.setdefault(s["optimization_id"], []).append(StepPublic(
            name=s["name"], status=s["status"], traffic_pct=s["traffic_pct"],
            started_at=s["started_at"], finished_at=s["finished_at"], detail=s["detail"]))

    def num(v: Any) -> float | None:
        return None if v is None else float(v)

    return [OptimizationPublic(
        id=r["id"], recommendation_id=r["recommendation_id"], status=r["status"],
        steps=steps.get(r["id"], []),
        predicted_monthly_savings=float(r["predicted_monthly_savings"]),
        actual_monthly_savings=num(r["actual_monthly_savings"]),
        cost_before=num(r["cost_before"]), cost_after=num(r["cost_after"]),
        quality_score=r["quality_score"], spot_instance_ids=r["spot_instance_ids"],
        reason=r["reason"], rollback_requested=r["rollback_requested"],
        pattern_id=r["pattern_id"], created_at=r["created_at"], started_at=r["started_at"],
        finished_at=r["finished_at"]) for r in rows]


async def savings_rows(conn: AsyncConnection, customer_id: str) -> list[dict]:
    cur = await conn.execute(
        "SELECT o.*, r.kind FROM optimizations o JOIN recommendations r ON "
        "r.id = o.recommendation_id WHERE o.customer_id = %s ORDER BY o.created_at",
        (customer_id,))
    return list(await cur.fetchall())


async def optimization(conn: AsyncConnection, customer_id: str | None,
                       opt_id: str) -> OptimizationPublic:
    got = await optimizations(conn, customer_id, opt_id)
    if not got:
        raise NotFound("optimization", opt_id)
    return got[0]


async def audit_entries(conn: AsyncConnection, customer_id: str, entity_id: str | None,
                        limit: int) -> list[AuditEntry]:
    sql = "SELECT * FROM audit WHERE customer_id = %s"
    params: list = [customer_id]
    if entity_id is not None:
        sql += " AND entity_id = %s"
        params.append(entity_id)
    cur = await conn.execute(sql + " ORDER BY id LIMIT %s", (*params, limit))
    return [AuditEntry(**{k: r[k] for k in AuditEntry.model_fields}) for r in
            await cur.fetchall()]
