"""The capacity gate: a pool running hot is not moved to spot.

docs/api.md, Recommendation: a spot migration needs the resource agent, which wants every
pool below 85 % on-demand utilisation over the last 120 s (counting only samples at the
pool's current size); `pending -> rejected` on any reject. The simulator runs a pool at 50 %
of what it was sized for, so a 1.9x demand on one pool runs it at 95 %: above the limit,
below saturation.

What this catches: a resource agent that lets a hot pool through (a limit too high, a check
on the wrong pool or the wrong window), a recommendation validated despite a reject.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    launch_fleet,
    wait_for_condition,
    wait_for_recommendation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

HOT_POOL, DEMAND = "inference", 1.9  # 50 % x 1.9 = 95 % utilisation
MAX_UTILIZATION = 0.85


@pytest.mark.req("REQ-AGENT-01", "REQ-SPOT-02")
def test_a_spot_migration_of_a_hot_pool_is_rejected_by_the_resource_agent(
        test_customer, ec2, faults, clickhouse, ws_client, narrative):
    client = test_customer.client
    narrative.banner("CAPACITY GATE: A HOT POOL STAYS ON-DEMAND")

    with phase(1, f"The '{HOT_POOL}' pool runs hot from its first second"):
        # Before the fleet exists: every sample of the window is a hot one.
        faults.inject(pool=HOT_POOL, demand_multiplier=DEMAND)
        launch_fleet(ec2, test_customer.id)

        def hot_samples() -> float | None:
            ((n, util),) = clickhouse.execute(
                "SELECT count(), min(utilization) FROM workload_metrics WHERE customer_id = "
                "%(c)s AND pool = %(p)s AND variant = 'on_demand' AND instances = 4",
                {"c": test_customer.id, "p": HOT_POOL})
            return util if n >= 3 else None
        util = wait_for_condition(hot_samples, timeout=60, interval=1,
                                  description=f"3 samples of the full '{HOT_POOL}' pool")
        assert MAX_UTILIZATION < util <= 1.0, \
            f"'{HOT_POOL}' runs at {util} utilisation, expected between 85 % and 100 %"
        say(f"'{HOT_POOL}' at {util:.0%} utilisation")

    with phase(2, "The cost agent proposes a spot migration; the resource agent rejects it"):
        client.start_analysis("cost")
        rec = wait_for_recommendation(client, kind="spot_migration", timeout=120,
                                      events=ws_client)
        rec = wait_for_condition(
            lambda: (lambda r: r if any(v.agent == "resource" for v in r.validations)
                     else None)(client.get_recommendation(rec.id)),
            timeout=120, interval=1, events=ws_client,
            description=f"the resource agent's verdict on {rec.id}")
        votes = {v.agent: (v.verdict, v.reason) for v in rec.validations}
        assert rec.status == "rejected", f"a spot migration of a pool at {util:.0%} is " \
            f"'{rec.status}': {votes}"
        verdict, reason = votes.get("resource", (None, ""))
        assert verdict == "reject" and HOT_POOL in reason, \
            f"expected the resource agent to reject it naming '{HOT_POOL}': {votes}"
        say(f"rejected by the resource agent: {reason}")
