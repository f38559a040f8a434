"""The simulator loop: read fleets from EC2 and rollout weights from Redis, write samples."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime

import redis

from ..common.aws import ROLE_TAG, SCALE_OUT_ROLE, Ec2
from ..common.domain import Instance
from ..common.messages import TRAFFIC_KEY
from ..common.metrics import Metrics, Sample
from .model import NO_FAULT, FaultBook, GroupState, pool_demand, simulate, traffic_shares

log = logging.getLogger(__name__)


class Simulator:
    def __init__(self, ec2: Ec2, metrics: Metrics, redis_client: redis.Redis,
                 regions: list[str], faults: FaultBook, seed: int | None = None,
                 inventory_every_s: float = 0.0) -> None:
        self.ec2, self.metrics, self.redis, self.regions = ec2, metrics, redis_client, regions
        self.faults = faults
        self.rng = random.Random(seed)
        self.last_tick: datetime | None = None
        self.last_error: str | None = None
        self.samples_written = 0
        self._schema = False
        # EC2 changes rarely and describing every fleet is the simulator's dearest call: a
        # thread refreshes it, ticks use the latest, so a slow simulator never stops samples.
        self.inventory_every_s = inventory_every_s
        self._fleets: dict[str, list[Instance]] | None = None
        self.inventory_error: str | None = None

    def refresh_inventory(self) -> dict[str, list[Instance]]:
        out: dict[str, list[Instance]] = defaultdict(list)
        for region in self.regions:
            for inst in self.ec2.instances(region):
                out[inst.tags.get("optiinfra:customer", "")].append(inst)
        out.pop("", None)
        self._fleets = dict(out)
        return self._fleets

    def inventory_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.refresh_inventory()
                self.inventory_error = None
            except Exception as e:  # noqa: BLE001 - keep the last inventory and retry
                self.inventory_error = f"{type(e).__name__}: {e}"
                log.warning("inventory refresh failed: %s", self.inventory_error)
            stop.wait(max(0.0, self.inventory_every_s - (time.monotonic() - started)))

    def fleets(self) -> dict[str, list[Instance]]:
        """The latest inventory; the first call (or a run without the thread) fetches it."""
        if self._fleets is None or self.inventory_every_s <= 0:
            return self.refresh_inventory()
        return self._fleets

    def traffic(self, customers: list[str]) -> dict[str, dict]:
        pipe = self.redis.pipeline(transaction=False)
        for c in customers:
            pipe.hgetall(TRAFFIC_KEY.format(customer_id=c))
        return dict(zip(customers, pipe.execute(), strict=True))

    def samples(self, ts: datetime, fleets: dict[str, list[Instance]],
                traffic: dict[str, dict]) -> list[Sample]:
        out = []
        for customer, instances in sorted(fleets.items()):
            rollout = traffic.get(customer) or {}
            opt = rollout.get("optimization_id", "")
            pct = int(rollout["spot_pct"]) if "spot_pct" in rollout else None
            pools: dict[str, list[Instance]] = defaultdict(list)
            for inst in instances:
                pools[inst.pool].append(inst)
            for pool, members in sorted(pools.items()):
                by_variant = {v: [i for i in members if (i.lifecycle == "spot") == (v == "spot")]
                              for v in ("on_demand", "spot")}
                counts = {v: len(m) for v, m in by_variant.items()}
                shares = traffic_shares(counts, pct)
                sized = {v: sum(1 for i in m if i.tags.get(ROLE_TAG) != SCALE_OUT_ROLE)
                         for v, m in by_variant.items()}
                demand = pool_demand(sized)
                for variant, share in sorted(shares.items()):
                    group = by_variant[variant]
                    itype = Counter(i.instance_type for i in group).most_common(1)[0][0]
                    state = GroupState(customer, pool, variant, len(group), itype)
                    fault = self.faults.lookup(customer, pool, variant)
                    if not fault.active_at(pct or 0):
                        fault = NO_FAULT
                    out.append(simulate(ts, state, share, demand, opt, pct or 0, fault,
                                        self.rng))
        return out

    def tick(self) -> int:
        if not self._schema:
            self.metrics.ensure_schema()
            self._schema = True
        fleets = self.fleets()
        traffic = self.traffic(sorted(fleets)) if fleets else {}
        ts = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
        batch = self.samples(ts, fleets, traffic)
        self.metrics.insert(batch)
        self.samples_written += len(batch)
        self.last_tick = ts
        self.last_error = None
        return len(batch)
