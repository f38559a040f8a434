"""Blue-green spot migration: launch spot, shift traffic 10/50/100 with a validation after each
shift, terminate on-demand; roll back (traffic home, spot terminated) when a step fails.

Progress lives in Postgres after every step, so a restarted orchestrator resumes where it
stopped; every step is idempotent (launch counts what exists, traffic is a value, not a delta).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import redis
import redis.asyncio as aredis
from psycopg.types.json import Jsonb
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from ..common.db import Database
from ..common.domain import OPTIMIZATION, PLANS, ROLLBACK_STEP, STEP_VALIDATORS
from ..common.learning import FEATURE_NAMES
from ..common.messages import TRAFFIC_KEY
from ..common.patterns import PatternStore
from ..common.settings import Settings
from . import store
from .dispatcher import Dispatcher

log = logging.getLogger(__name__)
PLAN = {s.name: s for plan in PLANS.values() for s in plan}
MAX_ATTEMPTS = 20
RETRY_SLEEP = asyncio.sleep  # the driver's retries sleep here (fast tests replace it)


class StepFailed(Exception):
    """A step's validation rejected it, or its action kept failing: the rollout rolls back."""


# Infrastructure errors a step retries before giving up (an agent restarting, Redis restarting).
TRANSIENT = (TimeoutError, RuntimeError, OSError, redis.RedisError)
STEP_ATTEMPTS = 3


class Rollouts:
    def __init__(self, db: Database, rds: aredis.Redis, dispatcher: Dispatcher,
                 patterns: PatternStore, settings: Settings) -> None:
        self.db, self.redis, self.bus, self.patterns = db, rds, dispatcher, patterns
        self.settings = settings
        self.tasks: dict[str, asyncio.Task] = {}
        self.wakeups: dict[str, asyncio.Event] = {}

    def start(self, opt_id: str) -> None:
        if opt_id in self.tasks and not self.tasks[opt_id].done():
            return
        self.wakeups[opt_id] = asyncio.Event()
        self.tasks[opt_id] = asyncio.create_task(self._run_guarded(opt_id),
                                                 name=f"rollout-{opt_id}")

    def wake(self, opt_id: str) -> None:
        """A rollback was requested: cut a hold short."""
        if opt_id in self.wakeups:
            self.wakeups[opt_id].set()

    async def resume(self) -> int:
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT id FROM optimizations WHERE status IN "
                                     "('pending', 'running') ORDER BY created_at")
            ids = [r["id"] for r in await cur.fetchall()]
        for opt_id in ids:
            self.start(opt_id)
        return len(ids)

    async def stop(self) -> None:
        for t in self.tasks.values():
            t.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    async def _run_guarded(self, opt_id: str) -> None:
        """Retry the whole driver on infrastructure errors; every step is idempotent."""

        def interrupted(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.error("rollout %s interrupted (attempt %d); resuming in %.0fs", opt_id,
                      state.attempt_number, state.upcoming_sleep, exc_info=exc)

        # Any error but a cancellation (a BaseException: never retried): 1, 2, 4, 8, 10, 10... s
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(Exception), stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=wait_exponential(multiplier=1, max=10), before_sleep=interrupted,
            sleep=RETRY_SLEEP, reraise=True)
        try:
            await retrying(self.run, opt_id)
        except Exception as e:
            log.exception("rollout %s failed %d times; giving up", opt_id, MAX_ATTEMPTS)
            await self._finish_failed(opt_id, f"gave up after {MAX_ATTEMPTS} attempts: {e}")

    # ---- the driver -----------------------------------------------------------------------
    async def run(self, opt_id: str) -> None:
        async with self.db.tx() as conn:
            opt = await store.one(conn, "SELECT * FROM optimizations WHERE id = %s", (opt_id,),
                                  "optimization", opt_id)
            if OPTIMIZATION.is_terminal(opt["status"]):
                return
            cur = await conn.execute("SELECT * FROM recommendations WHERE id = %s",
                                     (opt["recommendation_id"],))
            rec = await cur.fetchone()
            cur = await conn.execute("SELECT agent, data FROM validations WHERE "
                                     "recommendation_id = %s", (rec["id"],))
            validations = {r["agent"]: r["data"] for r in await cur.fetchall()}
        cid = opt["customer_id"]
        ctx = {
            "customer_id": cid, "optimization_id": opt_id, "region": rec["details"]["region"],
            "candidates": rec["details"]["candidates"], "pools": rec["details"]["pools"],
            "baseline_p95_ms": validations.get("performance", {}).get("baseline_p95_ms", {}),
            "rec": rec,
        }
        if opt["status"] == "pending":
            costs = await self._call("cost", "discover", ctx, {"region": ctx["region"]},
                                     "cost_before")
            await self._set_opt(opt, "running", started_at=datetime.now(UTC),
                                cost_before=costs["monthly_cost"])
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT * FROM optimization_steps WHERE optimization_id "
                                     "= %s ORDER BY seq", (opt_id,))
            steps = await cur.fetchall()
        failed = [s for s in steps if s["status"] == "failed"]
        if failed:  # interrupted while rolling back: finish the rollback
            why = f"{failed[0]['name']}: {failed[0]['detail'].get('error', 'failed')}"
            if PLAN[failed[0]["name"]].action == "terminate":
                await self._finish_failed(opt_id, why)
            else:
                await self.rollback(opt_id, why)
            return
        for step in steps:
            if step["status"] in ("completed", "skipped"):
                continue
            reason = await self._rollback_requested(opt_id)
            if reason:
                await self.rollback(opt_id, reason)
                return
            await self._step(opt_id, cid, step, "running")
            try:
                detail = await self._execute(PLAN[step["name"]].action, step, ctx)
            except StepFailed as e:
                await self._step(opt_id, cid, step, "failed", {"error": str(e)})
                if PLAN[step["name"]].action == "terminate":
                    await self._finish_failed(opt_id, f"{step['name']}: {e}")
                else:
                    await self.rollback(opt_id, f"{step['name']}: {e}")
                return
            await self._step(opt_id, cid, step, "completed", detail)
        await self._complete(opt_id, ctx)

    async def _execute(self, action: str, step: dict, ctx: dict) -> dict:
        """Run a step; retry infrastructure errors, fail at once on a rejecting verdict."""
        last: BaseException | None = None
        for attempt in range(STEP_ATTEMPTS):
            try:
                return await self._action(action, step, ctx)
            except TRANSIENT as e:
                last = e
                log.warning("step %s of %s failed (%s), attempt %d", step["name"],
                            ctx["optimization_id"], e, attempt + 1)
                await asyncio.sleep(1 + attempt)
        raise StepFailed(f"{type(last).__name__}: {last}")

    async def _action(self, action: str, step: dict, ctx: dict) -> dict:
        cid, opt_id, pct = ctx["customer_id"], ctx["optimization_id"], step["traffic_pct"]
        if action == "launch":
            got = await self._call("cost", "launch_spot", ctx, {
                "optimization_id": opt_id, "region": ctx["region"],
                "candidates": ctx["candidates"]}, step["name"])
            async with self.db.tx() as conn:
                await conn.execute("UPDATE optimizations SET spot_instance_ids = %s "
                                   "WHERE id = %s", (got["instance_ids"], opt_id))
            return {"spot_instance_ids": got["instance_ids"]}
        if action == "shift":
            await self._set_traffic(cid, opt_id, pct)
            await self._hold(opt_id)
            return {"spot_pct": pct}
        if action == "validate":
            return await self._validate(ctx, pct)
        if action == "scale_out":
            d = ctx["rec"]["details"]
            got = await self._call("cost", "scale_out", ctx, {
                "optimization_id": opt_id, "region": ctx["region"], "pool": d["pool"],
                "instance_type": d["instance_type"], "add": d["add"]}, step["name"])
            return {"instance_ids": got["instance_ids"]}
        if action == "plan":
            d = ctx["rec"]["details"]
            return {"executed": False, "plan": {
                "moves": [d["move"]], "expected_monthly_cost_change": -d["move"][
                    "net_monthly_savings"],
                "one_time_cost": d["move"]["migration_one_time"],
                "note": "only AWS is simulated: this is a plan; nothing was moved"}}
        if action == "consolidate":
            d = ctx["rec"]["details"]
            got = await self._call("cost", "consolidate", ctx, {
                "region": ctx["region"], "pool": d["pool"], "remove": d["remove"]},
                step["name"])
            return {"terminated": got["terminated"]}
        if action == "validate_latency":
            d = ctx["rec"]["details"]
            res = await self._call("performance", "validate_latency", ctx, {
                "pool": d["pool"], "instances": d["instances"] + d["add"],
                "baseline_p95_ms": d["baseline_p95_ms"],
                "predicted_p95_ms": d["predicted_p95_ms"]}, step["name"],
                self.settings.validation_timeout_s)
            if res["verdict"] != "approve":
                raise StepFailed(f"performance: {res['reason']}")
            return {"performance": res}
        if action == "terminate":
            ids = [c["instance_id"] for c in ctx["candidates"]]
            got = await self._call("cost", "terminate", ctx, {
                "region": ctx["region"], "instance_ids": ids}, step["name"])
            return {"terminated": got["terminated"]}
        raise ValueError(f"unknown step action {action!r}")

    async def _validate(self, ctx: dict, pct: int) -> dict:
        payload = {"optimization_id": ctx["optimization_id"], "traffic_pct": pct,
                   "pools": ctx["pools"], "baseline_p95_ms": ctx["baseline_p95_ms"],
                   "threshold": self.settings.quality_threshold}
        results = await asyncio.gather(*(
            self._call(agent, "validate_step", ctx, payload, f"validate_{pct}",
                       self.settings.validation_timeout_s) for agent in STEP_VALIDATORS),
            return_exceptions=True)
        detail: dict[str, Any] = {}
        failures = []
        for res in results:
            if isinstance(res, BaseException):
                raise res  # no verdict: the step retries
        for agent, res in zip(STEP_VALIDATORS, results, strict=True):
            detail[agent] = res
            if res["verdict"] != "approve":
                failures.append(f"{agent}: {res['reason']}")
        quality = detail.get("application", {}).get("data", {}).get("quality_score")
        if quality is not None and detail["application"].get("verdict") == "approve":
            async with self.db.tx() as conn:
                await conn.execute("UPDATE optimizations SET quality_score = %s WHERE id = %s",
                                   (quality, ctx["optimization_id"]))
        if failures:
            raise StepFailed("; ".join(failures))
        return detail

    async def _call(self, agent: str, task_type: str, ctx: dict, payload: dict, key: str,
                    timeout: float | None = None) -> dict:
        """An agent call whose task id is fixed by the optimization and step: retries of the
        step, or of the whole driver after a restart, reuse the answer instead of redoing."""
        return await self.bus.call(agent, task_type, ctx["customer_id"], payload,
                                   timeout or self.settings.rpc_timeout_s,
                                   task_id=f"opt:{ctx['optimization_id']}:{key}:{agent}")

    # ---- traffic, holds, rollback requests --------------------------------------------------
    async def _set_traffic(self, cid: str, opt_id: str, pct: int) -> None:
        await self.redis.hset(TRAFFIC_KEY.format(customer_id=cid),
                              mapping={"optimization_id": opt_id, "spot_pct": pct})

    async def _hold(self, opt_id: str) -> None:
        ev = self.wakeups.setdefault(opt_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ev.wait(), self.settings.rollout_step_hold_s)

    async def _rollback_requested(self, opt_id: str) -> str | None:
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT rollback_requested FROM optimizations WHERE id = %s",
                                     (opt_id,))
            row = await cur.fetchone()
        return row["rollback_requested"] if row else None

    # ---- state changes ----------------------------------------------------------------------
    async def _step(self, opt_id: str, cid: str, step: dict, status: str,
                    detail: dict | None = None) -> None:
        now = datetime.now(UTC)
        async with self.db.tx() as conn:
            if status == "running":
                await conn.execute("UPDATE optimization_steps SET status = 'running', "
                                   "started_at = COALESCE(started_at, %s) WHERE "
                                   "optimization_id = %s AND seq = %s", (now, opt_id, step["seq"]))
            else:
                await conn.execute("UPDATE optimization_steps SET status = %s, finished_at = %s, "
                                   "detail = %s WHERE optimization_id = %s AND seq = %s",
                                   (status, now, Jsonb(detail or {}), opt_id, step["seq"]))
            await store.audit(conn, cid, "optimization", opt_id, f"step_{status}", None, None,
                              {"step": step["name"], "traffic_pct": step["traffic_pct"]})
            await store.emit(conn, f"optimization.step_{status}", cid, opt_id,
                             step=step["name"], traffic_pct=step["traffic_pct"])
        self.bus.kick.set()

    async def _set_opt(self, opt: dict, status: str, **cols: Any) -> None:
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT * FROM optimizations WHERE id = %s FOR UPDATE",
                                     (opt["id"],))
            cur_row = await cur.fetchone()
            OPTIMIZATION.check(cur_row["status"], status)
            sets = ", ".join(f"{k} = %s" for k in cols)
            await conn.execute(f"UPDATE optimizations SET status = %s{', ' + sets if sets else ''}"
                               " WHERE id = %s", (status, *cols.values(), opt["id"]))
            data = {k: (float(v) if isinstance(v, int | float) else str(v))
                    for k, v in cols.items() if v is not None}
            await store.audit(conn, opt["customer_id"], "optimization", opt["id"], status,
                              cur_row["status"], status, data)
            await store.emit(conn, f"optimization.{status}", opt["customer_id"], opt["id"],
                             status=status, **data)
        self.bus.kick.set()

    async def _opt(self, opt_id: str) -> dict:
        async with self.db.tx() as conn:
            return await store.one(conn, "SELECT * FROM optimizations WHERE id = %s", (opt_id,),
                                   "optimization", opt_id)

    async def _complete(self, opt_id: str, ctx: dict) -> None:
        opt = await self._opt(opt_id)
        costs = await self._call("cost", "discover", ctx, {"region": ctx["region"]},
                                 "cost_after")
        before = float(opt["cost_before"])
        actual = round(before - costs["monthly_cost"], 2)
        pattern = await self._store_pattern(opt, ctx, "completed", actual)
        await self.redis.delete(TRAFFIC_KEY.format(customer_id=ctx["customer_id"]))
        await self._set_opt(opt, "completed", finished_at=datetime.now(UTC),
                            cost_after=costs["monthly_cost"], actual_monthly_savings=actual,
                            pattern_id=pattern)

    async def rollback(self, opt_id: str, reason: str) -> None:
        opt = await self._opt(opt_id)
        cid, rec_region = opt["customer_id"], None
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT details FROM recommendations WHERE id = %s",
                                     (opt["recommendation_id"],))
            rec_region = (await cur.fetchone())["details"]["region"]
        await self._set_traffic(cid, opt_id, 0)  # traffic returns to on-demand first
        got = await self._call("cost", "terminate_optimization",
                               {"customer_id": cid, "optimization_id": opt_id},
                               {"optimization_id": opt_id, "region": rec_region}, "rollback")
        await self.redis.delete(TRAFFIC_KEY.format(customer_id=cid))
        now = datetime.now(UTC)
        async with self.db.tx() as conn:
            await conn.execute("UPDATE optimization_steps SET status = 'skipped' WHERE "
                               "optimization_id = %s AND status = 'pending'", (opt_id,))
            await conn.execute(
                "INSERT INTO optimization_steps (optimization_id, seq, name, status, "
                "traffic_pct, detail, started_at, finished_at) SELECT %s, max(seq) + 1, %s, "
                "'completed', 0, %s, %s, %s FROM optimization_steps WHERE optimization_id = %s",
                (opt_id, ROLLBACK_STEP, Jsonb({"reason": reason, **got}), now, now, opt_id))
        await self._set_opt(opt, "rolled_back", finished_at=now, reason=reason)
        await self._store_pattern(await self._opt(opt_id), None, "rolled_back", 0.0)

    async def _finish_failed(self, opt_id: str, reason: str) -> None:
        opt = await self._opt(opt_id)
        if OPTIMIZATION.is_terminal(opt["status"]):
            return
        await self.redis.delete(TRAFFIC_KEY.format(customer_id=opt["customer_id"]))
        await self._set_opt(opt, "failed", finished_at=datetime.now(UTC), reason=reason)

    async def _store_pattern(self, opt: dict, ctx: dict | None, outcome: str,
                             actual: float) -> str | None:
        """The case and its outcome, for later analyses; learning never fails a rollout."""
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT details, kind FROM recommendations WHERE id = %s",
                                     (opt["recommendation_id"],))
            rec = await cur.fetchone()
        vector = rec["details"].get("feature_vector")
        if vector is None:  # kinds without a fleet fingerprint are not learnt from (yet)
            return None
        payload = {
            "customer_id": opt["customer_id"], "optimization_id": opt["id"],
            "recommendation_id": opt["recommendation_id"], "kind": rec["kind"],
            "outcome": outcome, "predicted_monthly_savings": float(
                opt["predicted_monthly_savings"]),
            "actual_monthly_savings": actual, "savings_pct": rec["details"]["savings_pct"],
            "features": dict(zip(FEATURE_NAMES, vector, strict=True)),
            "created_at": datetime.now(UTC).isoformat(),
        }
        for attempt in range(3):
            try:
                pid = await asyncio.to_thread(self.patterns.store, opt["id"], vector, payload)
                async with self.db.tx() as conn:
                    await conn.execute("UPDATE optimizations SET pattern_id = %s WHERE id = %s",
                                       (pid, opt["id"]))
                    await store.audit(conn, opt["customer_id"], "pattern", pid, "stored",
                                      None, outcome, {"optimization_id": opt["id"]})
                    await store.emit(conn, "pattern.stored", opt["customer_id"], pid,
                                     optimization_id=opt["id"], outcome=outcome)
                self.bus.kick.set()
                return pid
            except Exception as e:  # noqa: BLE001 - retried, then logged
                log.warning("storing pattern of %s failed (%s), attempt %d", opt["id"], e,
                            attempt + 1)
                await asyncio.sleep(1 + attempt)
        return None
