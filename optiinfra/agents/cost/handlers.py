"""Cost agent task handlers. EC2 and Qdrant are the IO; the arithmetic is in common.pricing."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict

from ...common import gates
from ...common.aws import OPTIMIZATION_TAG, Ec2
from ...common.crosscloud import CrossCloud, Move
from ...common.domain import Instance
from ...common.learning import FEATURE_NAMES, fleet_features
from ...common.messages import Task
from ...common.patterns import PatternStore
from ...common.pricing import (
    Catalogue,
    SpotPlan,
    confidence,
    fleet_monthly_cost,
    monthly,
    risk_level,
    spot_plan,
)
from ...common.settings import Settings
from ..runtime import Handler

log = logging.getLogger(__name__)


class CostAgent:
    def __init__(self, ec2: Ec2, catalogue: Catalogue, patterns: PatternStore | None,
                 default_region: str) -> None:
        self.ec2, self.cat, self.patterns = ec2, catalogue, patterns
        self.cross = CrossCloud(catalogue, catalogue.cross_cloud_data) \
            if catalogue.cross_cloud_data else None
        self.default_region = default_region

    def _region(self, task: Task) -> str:
        return task.payload.get("region") or self.default_region

    def _describe(self, inst: Instance) -> dict:
        return {"instance_id": inst.instance_id, "instance_type": inst.instance_type,
                "lifecycle": inst.lifecycle, "pool": inst.pool, "state": inst.state,
                "region": inst.region, "availability_zone": inst.availability_zone,
                "hourly_cost": self.cat.hourly(inst) if self.cat.knows(inst) else None}

    def discover(self, task: Task) -> dict:
        region = self._region(task)
        fleet = self.ec2.instances(region, task.customer_id)
        by_lifecycle: dict[str, float] = {}
        for inst in (i for i in fleet if self.cat.knows(i)):
            by_lifecycle[inst.lifecycle] = (by_lifecycle.get(inst.lifecycle, 0.0)
                                            + self.cat.hourly(inst))
        return {
            "region": region, "currency": self.cat.currency,
            "instances": [self._describe(i) for i in fleet],
            "monthly_cost": fleet_monthly_cost(fleet, self.cat),
            "by_lifecycle": {k: round(v * 730, 2) for k, v in sorted(by_lifecycle.items())},
            "unpriced_instance_types": sorted({i.instance_type for i in fleet
                                               if not self.cat.knows(i)}),
            "catalogue": {"source": self.cat.source, "as_of": self.cat.as_of},
        }

    def analyze(self, task: Task) -> dict:
        region = self._region(task)
        fleet = self.ec2.instances(region, task.customer_id)
        plan = spot_plan(fleet, self.cat)
        summary = {"instances": len(fleet), "monthly_cost": plan.current_monthly_cost,
                   "region": region, "findings": self._findings(fleet, plan)}
        other = [c for c in task.payload.get("clouds", []) if c != "aws"]
        moves: list[Move] = self.cross.moves(fleet, other) if self.cross and other else []
        if other:
            summary["cross_cloud"] = [m.as_dict() for m in moves]
        cross = [self._cross_cloud(m, region) for m in moves if m.worth_it]
        if not plan.candidates or plan.savings <= 0:
            return {"summary": summary, "recommendations": cross}
        features = fleet_features(fleet, plan.current_monthly_cost, plan.savings_pct, plan.risk)
        similar = self._similar(features)
        rec = {
            "kind": "spot_migration",
            "estimated_monthly_savings": plan.savings,
            "confidence": confidence(plan.risk, [(s["score"], s["outcome"]) for s in similar]),
            "risk": plan.risk,
            "similar_patterns": similar,
            "details": {
                "region": region, "risk_level": risk_level(plan.risk),
                "current_monthly_cost": plan.current_monthly_cost,
                "projected_monthly_cost": plan.projected_monthly_cost,
                "savings_pct": plan.savings_pct,
                "candidates": [asdict(c) for c in plan.candidates],
                "pools": sorted({c.pool for c in plan.candidates}),
                "features": dict(zip(FEATURE_NAMES, features, strict=True)),
                "feature_vector": features,
                "catalogue": {"source": self.cat.source, "as_of": self.cat.as_of},
            },
        }
        return {"summary": summary, "recommendations": [rec, *cross]}

    def _cross_cloud(self, move: Move, region: str) -> dict:
        assert self.cross is not None
        return {
            "kind": "cross_cloud_migration",
            "estimated_monthly_savings": move.net_monthly_savings,
            "confidence": 0.6, "risk": 0.0, "similar_patterns": [],
            "details": {
                "region": region, "pools": [move.pool], "candidates": [], "savings_pct": 0.0,
                "move": move.as_dict(),
                "catalogue": {"source": self.cat.source, "as_of": self.cat.as_of,
                              "cross_cloud": self.cross.sources},
            },
        }

    def _findings(self, fleet: list[Instance], plan: SpotPlan) -> list[dict]:
        """Per pool: what it costs a month, and what moving it to spot would save."""
        out = []
        for pool in sorted({i.pool for i in fleet}):
            members = [i for i in fleet if i.pool == pool]
            saving = monthly(sum(c.on_demand_hourly - c.spot_hourly for c in plan.candidates
                                 if c.pool == pool))
            out.append({"pool": pool, "metric": "monthly_cost",
                        "value": fleet_monthly_cost(members, self.cat),
                        "spot_savings": saving, "instances": len(members)})
        return out

    def validate_recommendation(self, task: Task) -> dict:
        """Re-price the proposal against the live fleet and today's catalogue."""
        region = self._region(task)
        live = {i.instance_id: i for i in self.ec2.instances(region, task.customer_id)
                if i.lifecycle != "spot"}
        candidates = task.payload.get("candidates", [])
        missing = [c["instance_id"] for c in candidates if c["instance_id"] not in live]
        repriced = 0.0
        for c in candidates:
            if c["instance_id"] in live:
                p = self.cat.price(region, c["instance_type"])
                repriced += p.on_demand - p.spot
        v = gates.savings_still_hold(float(task.payload.get("estimated_monthly_savings", 0)),
                                     monthly(repriced), missing)
        return {"verdict": v.verdict, "reason": v.reason, "data": v.data}

    def _similar(self, features: list[float]) -> list[dict]:
        if self.patterns is None:
            return []
        try:
            return self.patterns.similar(features)
        except Exception as e:  # noqa: BLE001 - learning only adjusts confidence
            log.warning("pattern store unavailable, no similar patterns: %s", e)
            return []

    def launch_spot(self, task: Task) -> dict:
        """Idempotent: counts what this optimization already launched and adds the rest."""
        region, opt = self._region(task), task.payload["optimization_id"]
        want = Counter((c["instance_type"], c["pool"], c.get("image_id", ""))
                       for c in task.payload["candidates"])
        have = self.ec2.instances(region, task.customer_id,
                                  [{"Name": f"tag:{OPTIMIZATION_TAG}", "Values": [opt]}])
        got = Counter((i.instance_type, i.pool) for i in have)
        ids = [i.instance_id for i in have]
        for (itype, pool, image), n in sorted(want.items()):
            missing = n - got.get((itype, pool), 0)
            if missing > 0:
                ids += self.ec2.launch_spot(region, task.customer_id, opt, itype, pool, image,
                                            missing)
                got[(itype, pool)] = n
        return {"instance_ids": sorted(ids)}

    def scale_out(self, task: Task) -> dict:
        """Idempotent: tops the optimization's added instances up to the planned count."""
        region, opt = self._region(task), task.payload["optimization_id"]
        pool, itype = task.payload["pool"], task.payload["instance_type"]
        want = int(task.payload["add"])
        fleet = self.ec2.instances(region, task.customer_id)
        have = [i.instance_id for i in fleet if i.tags.get(OPTIMIZATION_TAG) == opt]
        image = next((i.image_id for i in fleet if i.pool == pool), "")
        if len(have) < want:
            have += self.ec2.launch_scale_out(region, task.customer_id, opt, itype, pool,
                                              image, want - len(have))
        return {"instance_ids": sorted(have)}

    def consolidate(self, task: Task) -> dict:
        """Terminate ``remove`` on-demand instances of the pool (the step's task id makes a
        retry reuse this answer, so it never removes twice)."""
        region, pool = self._region(task), task.payload["pool"]
        members = sorted(i.instance_id for i in self.ec2.instances(region, task.customer_id)
                         if i.pool == pool and i.lifecycle != "spot")
        remove = members[:max(0, min(int(task.payload["remove"]), len(members) - 1))]
        self.ec2.terminate(region, remove)
        return {"terminated": remove}

    def terminate(self, task: Task) -> dict:
        """Terminate the listed instances, only those that belong to this customer."""
        region = self._region(task)
        owned = {i.instance_id for i in self.ec2.instances(region, task.customer_id)}
        ids = sorted(set(task.payload.get("instance_ids", [])) & owned)
        self.ec2.terminate(region, ids)
        return {"terminated": ids}

    def terminate_optimization(self, task: Task) -> dict:
        region, opt = self._region(task), task.payload["optimization_id"]
        ids = [i.instance_id for i in self.ec2.instances(
            region, task.customer_id, [{"Name": f"tag:{OPTIMIZATION_TAG}", "Values": [opt]}])]
        self.ec2.terminate(region, ids)
        return {"terminated": ids}

    def handlers(self) -> dict[str, Handler]:
        return {"discover": self.discover, "analyze": self.analyze,
                "validate_recommendation": self.validate_recommendation,
                "launch_spot": self.launch_spot, "scale_out": self.scale_out,
                "consolidate": self.consolidate,
                "terminate": self.terminate,
                "terminate_optimization": self.terminate_optimization}


def build_handlers(settings: Settings) -> dict[str, Handler]:
    ec2 = Ec2(settings.aws_endpoint_url, settings.aws_access_key_id,
              settings.aws_secret_access_key)
    patterns = PatternStore(settings.qdrant_url, settings.patterns_collection)
    return CostAgent(ec2, Catalogue.load(), patterns, settings.aws_default_region).handlers()
