"""Conflict resolution: the cost agent wants the GPU pool on spot while the resource agent
wants to consolidate it. Both proposals are valid on their own; together they conflict.

The orchestrator flags the conflict on the shared pool, and its documented policy (the first
approval wins; overlapping open proposals are superseded) decides: the customer approves both
at the same instant, exactly one runs, the other is superseded with a reason naming the
winner and the pool, and nothing runs twice.

What this catches: conflicts not detected, both proposals executed (instances terminated
twice, spot launched for instances that a consolidation removed), a loser left 'validated'
and approvable later, a superseded state without a reason, and an approval race that lets
both through.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import phase, say
from harness.domain import (
    ApiError,
    assert_optimization_successful,
    customer_instances,
    wait_for_condition,
    wait_for_optimization_complete,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

POOL = "inference"


@pytest.mark.req("REQ-CONFLICT-01", "REQ-CONFLICT-02")
def test_conflicting_proposals_only_one_runs(test_customer, test_infrastructure, ws_client,
                                             faults, api_client, ec2, clickhouse, narrative):
    client = test_customer.client
    cid = test_customer.id
    size = next(p.count for p in test_infrastructure.spec.pools if p.name == POOL)
    narrative.banner("CONFLICT RESOLUTION: SPOT VS CONSOLIDATION ON ONE POOL")

    with phase(1, f"The '{POOL}' pool runs cold"):
        faults.inject(pool=POOL, demand_multiplier=0.4)
        util = wait_for_condition(
            lambda: (lambda r: r[1] if r[0] >= 8 and r[2] < 0.3 else None)(clickhouse.execute(
                "SELECT count(), avg(utilization), max(utilization) FROM workload_metrics "
                "WHERE customer_id = %(c)s AND pool = %(p)s AND variant = 'on_demand' AND "
                "ts >= now() - 10 AND throughput_rps > 0", {"c": cid, "p": POOL})[0]),
            timeout=40, interval=1, description="10 s of low load in ClickHouse")
        cost_before = client.get_costs().monthly_cost
        say(f"'{POOL}' utilisation {util:.2f} on {size} instances; cost ${cost_before:,.2f}")

    with phase(2, "Two agents propose conflicting changes to the pool"):
        client.start_analysis("full")
        spot = wait_for_recommendation(client, kind="spot_migration", timeout=60,
                                       events=ws_client)
        cons = wait_for_recommendation(client, kind="consolidation", timeout=60,
                                       events=ws_client)
        spot = wait_for_validation(client, spot.id, min_agents=4, timeout=90, events=ws_client)
        cons = wait_for_validation(client, cons.id, min_agents=2, timeout=90, events=ws_client)
        assert (spot.status, cons.status) == ("validated", "validated"), \
            f"spot {spot.status} {[(v.agent, v.reason) for v in spot.validations]}; " \
            f"consolidation {cons.status} {[(v.agent, v.reason) for v in cons.validations]}"
        assert cons.details["pool"] == POOL and POOL in spot.details["pools"], \
            (cons.details["pool"], spot.details["pools"])
        say(f"cost: spot_migration {spot.id} of {spot.details['pools']} "
            f"(${spot.estimated_monthly_savings:,.2f}/month)")
        say(f"resource: consolidation {cons.id}: remove {cons.details['remove']} of "
            f"{cons.details['instances']} in '{POOL}' (${cons.estimated_monthly_savings:,.2f}"
            "/month)")

    with phase(3, "The orchestrator flags the conflict on the shared pool"):
        assert spot.conflicts_with == [cons.id] and cons.conflicts_with == [spot.id], \
            f"spot conflicts_with {spot.conflicts_with}, consolidation " \
            f"{cons.conflicts_with}"
        say("Each proposal lists the other in conflicts_with")

    with phase(4, "The customer approves both at the same instant"):
        second = api_client.with_token(test_customer.token)
        barrier = threading.Barrier(2)

        def approve(c, rec_id):
            barrier.wait()
            try:
                return rec_id, 202, c.approve_recommendation(rec_id).optimization_id
            except ApiError as e:
                return rec_id, e.status, e.body

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(approve, (client, second), (spot.id, cons.id)))
        second.close()
        won = [a for a in answers if a[1] == 202]
        lost = [a for a in answers if a[1] != 202]
        assert len(won) == 1 and len(lost) == 1 and lost[0][1] == 409, \
            f"expected one 202 and one 409, got {[(a[0], a[1]) for a in answers]}"
        winner_id, _, opt_id = won[0]
        loser_id = lost[0][0]
        winner, loser = (spot, cons) if winner_id == spot.id else (cons, spot)
        say(f"202 for {winner.kind} {winner_id}; 409 for {loser.kind} {loser_id}: "
            f"{lost[0][2]}")

    with phase(5, "The loser is superseded, with the reason"):
        loser = client.get_recommendation(loser_id)
        assert loser.status == "superseded", f"{loser.kind} {loser_id} is '{loser.status}'"
        reason = loser.reason or ""
        assert winner_id in reason and winner.kind in reason and POOL in reason, \
            f"reason does not name the winner and the pool: {reason!r}"
        ws_client.wait_for_event("recommendation.superseded",
                                 lambda e: e.entity_id == loser_id, timeout=10)
        audit = [a.action for a in client.audit(entity_id=loser_id).data]
        assert "superseded" in audit, audit
        try:
            client.approve_recommendation(loser_id)
            raise AssertionError(f"superseded {loser_id} could still be approved")
        except ApiError as e:
            assert e.status == 409, e
        say(f"{loser.kind}: {reason}")

    with phase(6, "Exactly one optimization runs, once"):
        opt = wait_for_optimization_complete(client, opt_id, timeout=180, events=ws_client)
        assert_optimization_successful(
            opt, required_traffic=(10, 50, 100) if winner.kind == "spot_migration" else (100,))
        created = [e.entity_id for e in ws_client.snapshot()
                   if e.type == "optimization.created"]
        assert created == [opt_id], f"optimizations created: {created}"
        fleet = customer_instances(ec2, cid)
        in_pool = [i for i in fleet if {"Key": "optiinfra:pool", "Value": POOL} in i["Tags"]]
        spot_now = [i for i in in_pool if i.get("InstanceLifecycle") == "spot"]
        if winner.kind == "spot_migration":
            assert len(in_pool) == size and len(spot_now) == size, \
                f"'{POOL}': {len(in_pool)} instances, {len(spot_now)} spot; expected all " \
                f"{size} on spot and none removed"
        else:
            keep = size - winner.details["remove"]
            assert len(in_pool) == keep and not spot_now, \
                f"'{POOL}': {len(in_pool)} instances ({len(spot_now)} spot), expected " \
                f"{keep} on-demand"
        cost_after = client.get_costs().monthly_cost
        assert abs((cost_before - cost_after) - winner.estimated_monthly_savings) <= \
            0.2 * winner.estimated_monthly_savings, \
            f"saved ${cost_before - cost_after:,.2f}, the winner promised " \
            f"${winner.estimated_monthly_savings:,.2f}"
        say(f"Only {winner.kind} ran: '{POOL}' now {len(in_pool)} instances "
            f"({len(spot_now)} spot); cost ${cost_before:,.2f} -> ${cost_after:,.2f}")

    narrative.banner("CONFLICT RESOLUTION PASSED")
