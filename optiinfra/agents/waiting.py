"""Agents wait for enough workload samples before judging (bounded by a deadline)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ..common.gates import PoolStats


def wait_for_samples(fetch: Callable[[], dict[str, PoolStats]], pools: Iterable[str],
                     min_samples: int, deadline_s: float, interval_s: float = 0.5,
                     clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep) -> dict[str, PoolStats]:
    """Poll ``fetch`` until every pool has ``min_samples``; return what there is at the end."""
    wanted = set(pools)
    end = clock() + deadline_s
    while True:
        stats = fetch()
        if all(stats.get(p, PoolStats(0)).samples >= min_samples for p in wanted):
            return stats
        if clock() >= end:
            return {p: stats.get(p, PoolStats(0)) for p in wanted} | stats
        sleep(interval_s)
