"""Analyses, recommendations and their validations: commands and result handlers.

Each command is one transaction: the state change, its audit entry, and the tasks and events
it causes (through the outbox) commit together or not at all.
"""

from __future__ import annotations

import logging

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from ..common.db import Database
from ..common.domain import (
    ANALYSIS,
    OPTIMIZATION,
    RECOMMENDATION,
    REQUIRED_VALIDATORS,
    IllegalTransition,
    Superseded,
    agents_for_analysis,
    conflicting_pools,
    proposal_key,
    recommendation_outcome,
    rollout_plan,
    supersede_reason,
)
from ..common.messages import Result, Task, new_id
from . import store

log = logging.getLogger(__name__)


class Workflow:
    def __init__(self, db: Database, quality_threshold: float, kick: object) -> None:
        self.db, self.quality_threshold = db, quality_threshold
        self._kick = kick  # asyncio.Event of the outbox relay

    def kick(self) -> None:
        self._kick.set()  # type: ignore[attr-defined]

    # ---- commands -------------------------------------------------------------------------
    async def create_analysis(self, customer_id: str, kind: str, region: str,
                              clouds: list[str] | None = None) -> str:
        aid, agents = new_id(), agents_for_analysis(kind)
        async with self.db.tx() as conn:
            await conn.execute(
                "INSERT INTO analyses (id, customer_id, kind, region, status, agents) "
                "VALUES (%s, %s, %s, %s, 'pending', %s)", (aid, customer_id, kind, region,
                                                           list(agents)))
            await store.audit(conn, customer_id, "analysis", aid, "created", None, "pending",
                              {"kind": kind, "region": region})
            for agent in agents:
                await store.enqueue(conn, Task(id=f"analysis:{aid}:{agent}", type="analyze",
                                               agent=agent, customer_id=customer_id,
                                               payload={"analysis_id": aid, "region": region,
                                                        "clouds": clouds or ["aws"]}))
            await store.emit(conn, "analysis.created", customer_id, aid, kind=kind,
                             status="pending")
        self.kick()
        return aid

    async def approve(self, customer_id: str, rec_id: str) -> str:
        opt_id = new_id()
        async with self.db.tx() as conn:
            # Approvals of one customer are serialised: of two conflicting proposals
            # approved at once, the second finds itself superseded (409).
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (customer_id,))
            rec = await store.one(conn, "SELECT * FROM recommendations WHERE id = %s AND "
                                  "customer_id = %s FOR UPDATE", (rec_id, customer_id),
                                  "recommendation", rec_id)
            if rec["status"] == "superseded":
                raise Superseded(rec_id, rec["reason"])
            RECOMMENDATION.check(rec["status"], "approved")
            cur = await conn.execute(
                "SELECT r.id, r.kind, r.details FROM optimizations o JOIN recommendations r "
                "ON r.id = o.recommendation_id WHERE o.customer_id = %s AND o.status IN "
                "('pending', 'running')", (customer_id,))
            for busy in await cur.fetchall():
                if pools := conflicting_pools(rec["details"], busy["details"]):
                    raise Superseded(rec_id, f"{busy['kind']} {busy['id']} is being "
                                     f"executed on pool(s) {', '.join(pools)}")
            await self._set_rec(conn, rec, "approved", "approved by customer")
            cur = await conn.execute(
                "SELECT * FROM recommendations WHERE customer_id = %s AND id <> %s AND status "
                "IN ('pending', 'validated') ORDER BY created_at FOR UPDATE",
                (customer_id, rec_id))
            for other in await cur.fetchall():
                if pools := conflicting_pools(rec["details"], other["details"]):
                    await self._set_rec(conn, other, "superseded",
                                        supersede_reason(rec["kind"], rec_id, pools))
            await conn.execute(
                "INSERT INTO optimizations (id, customer_id, recommendation_id, status, "
                "predicted_monthly_savings) VALUES (%s, %s, %s, 'pending', %s)",
                (opt_id, customer_id, rec_id, rec["estimated_monthly_savings"]))
            for seq, step in enumerate(rollout_plan(rec["kind"])):
                await conn.execute(
                    "INSERT INTO optimization_steps (optimization_id, seq, name, status, "
                    "traffic_pct) VALUES (%s, %s, %s, 'pending', %s)",
                    (opt_id, seq, step.name, step.traffic_pct))
            await store.audit(conn, customer_id, "optimization", opt_id, "created", None,
                              "pending", {"recommendation_id": rec_id})
            await store.emit(conn, "optimization.created", customer_id, opt_id,
                             recommendation_id=rec_id, status="pending")
        self.kick()
        return opt_id

    async def reject(self, customer_id: str, rec_id: str, reason: str | None) -> None:
        async with self.db.tx() as conn:
            rec = await store.one(conn, "SELECT * FROM recommendations WHERE id = %s AND "
                                  "customer_id = %s FOR UPDATE", (rec_id, customer_id),
                                  "recommendation", rec_id)
            RECOMMENDATION.check(rec["status"], "rejected")
            await self._set_rec(conn, rec, "rejected", reason or "rejected by customer")
        self.kick()

    async def request_rollback(self, customer_id: str, opt_id: str, reason: str | None) -> str:
        reason = reason or "rollback requested by customer"
        async with self.db.tx() as conn:
            opt = await store.one(conn, "SELECT * FROM optimizations WHERE id = %s AND "
                                  "customer_id = %s FOR UPDATE", (opt_id, customer_id),
                                  "optimization", opt_id)
            OPTIMIZATION.check(opt["status"], "rolled_back")  # 409 once finished
            if opt["rollback_requested"]:
                raise IllegalTransition("optimization", "rollback_requested", "rolled_back")
            await conn.execute("UPDATE optimizations SET rollback_requested = %s WHERE id = %s",
                               (reason, opt_id))
            await store.audit(conn, customer_id, "optimization", opt_id, "rollback_requested",
                              opt["status"], opt["status"], {"reason": reason})
            await store.emit(conn, "optimization.rollback_requested", customer_id, opt_id,
                             reason=reason)
        self.kick()
        return opt["status"]

    # ---- results from agents --------------------------------------------------------------
    async def handle_result(self, result: Result) -> None:
        if result.type == "analyze":
            await self._analysis_result(result)
        elif result.type == "validate_recommendation":
            await self._validation_result(result)
        else:
            log.info("ignoring late %s result of task %s", result.type, result.task_id)

    async def _analysis_result(self, result: Result) -> None:
        _, aid, agent = result.task_id.split(":", 2)
        async with self.db.tx() as conn:
            if not await store.first_time(conn, result.task_id):
                return
            cur = await conn.execute("SELECT * FROM analyses WHERE id = %s FOR UPDATE", (aid,))
            a = await cur.fetchone()
            if a is None or ANALYSIS.is_terminal(a["status"]):
                return
            results = dict(a["results"])
            results[agent] = result.payload.get("summary", {}) if result.ok else {
                "error": result.error}
            new_recs = []
            for rec in result.payload.get("recommendations", []) if result.ok else []:
                new_recs.append(await self._create_recommendation(conn, a, rec))
            # The hand-off: this agent's part is in (findings merged on read, see store).
            await store.emit(conn, "analysis.agent_reported", a["customer_id"], aid,
                             agent=agent, ok=result.ok, recommendation_ids=new_recs,
                             findings=len(results[agent].get("findings", []))
                             if result.ok else 0)
            status, error = a["status"], a["error"]
            if not result.ok:
                status, error = "failed", f"{agent}: {result.error}"
            elif set(results) >= set(a["agents"]):
                status = "completed"
            await conn.execute("UPDATE analyses SET results = %s, status = %s, error = %s, "
                               "updated_at = now() WHERE id = %s",
                               (Jsonb(results), status, error, aid))
            if status != a["status"]:
                ANALYSIS.check(a["status"], status)
                await store.audit(conn, a["customer_id"], "analysis", aid, status,
                                  a["status"], status, {"error": error} if error else {})
                await store.emit(conn, f"analysis.{status}", a["customer_id"], aid,
                                 status=status, recommendation_ids=new_recs, error=error)
        self.kick()

    async def _create_recommendation(self, conn: AsyncConnection, analysis: dict,
                                     rec: dict) -> str:
        rid, cid = new_id(), analysis["customer_id"]
        # No duplicate proposals: one open proposal per kind and pools (a full analysis after
        # a cost one refers to the open one), and a proposal identical to an earlier one
        # (same instances) is not repeated after it was rejected: nothing changed since. The
        # lock serialises the check across concurrent results of one customer.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (cid,))
        key = proposal_key(rec["kind"], rec["details"])
        cur = await conn.execute(
            "SELECT id, status, details FROM recommendations WHERE customer_id = %s AND "
            "kind = %s AND status IN ('pending', 'validated', 'rejected') ORDER BY created_at",
            (cid, rec["kind"]))
        for row in await cur.fetchall():
            other = proposal_key(rec["kind"], row["details"])
            same = other == key if row["status"] == "rejected" and key[2] else \
                other[:2] == key[:2] and row["status"] != "rejected"
            if same:
                await store.audit(conn, cid, "analysis", analysis["id"], "deduplicated", None,
                                  None, {"kind": rec["kind"], "recommendation_id": row["id"],
                                         "status": row["status"]})
                return row["id"]
        required = REQUIRED_VALIDATORS.get(rec["kind"], ("performance", "application"))
        await conn.execute(
            "INSERT INTO recommendations (id, customer_id, analysis_id, kind, status, "
            "estimated_monthly_savings, confidence, risk, details, similar_patterns, "
            "required_validators) VALUES (%s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s, %s)",
            (rid, cid, analysis["id"], rec["kind"], rec["estimated_monthly_savings"],
             rec["confidence"], rec["risk"], Jsonb(rec["details"]),
             Jsonb(rec.get("similar_patterns", [])), list(required)))
        await store.audit(conn, cid, "recommendation", rid, "created", None, "pending",
                          {"kind": rec["kind"], "analysis_id": analysis["id"],
                           "estimated_monthly_savings": rec["estimated_monthly_savings"]})
        await store.emit(conn, "recommendation.created", cid, rid, kind=rec["kind"],
                         status="pending",
                         estimated_monthly_savings=rec["estimated_monthly_savings"])
        payload = {"recommendation_id": rid, "kind": rec["kind"],
                   "pools": rec["details"].get("pools", []), "risk": rec["risk"],
                   "region": rec["details"].get("region"), "threshold": self.quality_threshold,
                   "candidates": rec["details"].get("candidates", []),
                   "estimated_monthly_savings": rec["estimated_monthly_savings"]}
        for agent in required:
            await store.enqueue(conn, Task(id=f"validate:{rid}:{agent}",
                                           type="validate_recommendation", agent=agent,
                                           customer_id=cid, payload=payload))
        return rid

    async def _validation_result(self, result: Result) -> None:
        _, rid, agent = result.task_id.split(":", 2)
        verdict = result.payload.get("verdict") if result.ok else "reject"
        reason = result.payload.get("reason", "") if result.ok else f"agent error: {result.error}"
        async with self.db.tx() as conn:
            if not await store.first_time(conn, result.task_id):
                return
            cur = await conn.execute("SELECT * FROM recommendations WHERE id = %s FOR UPDATE",
                                     (rid,))
            rec = await cur.fetchone()
            if rec is None:
                return
            await conn.execute(
                "INSERT INTO validations (recommendation_id, agent, verdict, reason, data) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (rid, agent, verdict, reason, Jsonb(result.payload.get("data", {}))))
            await store.audit(conn, rec["customer_id"], "recommendation", rid, "validated_by",
                              rec["status"], rec["status"],
                              {"agent": agent, "verdict": verdict, "reason": reason})
            await store.emit(conn, "validation.recorded", rec["customer_id"], rid, agent=agent,
                             verdict=verdict, reason=reason)
            if rec["status"] != "pending":
                return
            cur = await conn.execute("SELECT agent, verdict, reason FROM validations WHERE "
                                     "recommendation_id = %s", (rid,))
            rows = await cur.fetchall()
            outcome = recommendation_outcome(tuple(rec["required_validators"]),
                                             {r["agent"]: r["verdict"] for r in rows})
            if outcome != "pending":
                why = "; ".join(f"{r['agent']}: {r['reason']}" for r in rows
                                if r["verdict"] == "reject") or "approved by " + ", ".join(
                    sorted(r["agent"] for r in rows))
                await self._set_rec(conn, rec, outcome, why)
        self.kick()

    async def _set_rec(self, conn: AsyncConnection, rec: dict, status: str, reason: str) -> None:
        RECOMMENDATION.check(rec["status"], status)
        await conn.execute("UPDATE recommendations SET status = %s, reason = %s, "
                           "updated_at = now() WHERE id = %s", (status, reason, rec["id"]))
        await store.audit(conn, rec["customer_id"], "recommendation", rec["id"], status,
                          rec["status"], status, {"reason": reason})
        await store.emit(conn, f"recommendation.{status}", rec["customer_id"], rec["id"],
                         status=status, reason=reason)
