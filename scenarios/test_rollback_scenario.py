"""Rollback: a fault at the 50% step, and a customer who changes their mind mid-rollout.

Either way the rollout must undo itself completely: traffic home to on-demand (Redis weight
gone, the workload's samples back on the on-demand variant), every spot instance it launched
terminated in the simulator, the bill back to its baseline, and the reason on the
optimization, in the audit log and in the events.

What this catches: a rollback that leaves spot instances running (cost stays changed), that
leaves the traffic weight behind (the simulator keeps routing to spot), that forgets the
reason, that runs later steps after the failure, or that ignores a customer's request.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    assert_rollback_successful,
    customer_instances,
    wait_for_condition,
    wait_for_optimization_status,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

TRAFFIC_KEY = "optiinfra:traffic:{customer_id}"  # the rollout's weight, read by the workload
FINISHED = ("completed", "rolled_back", "failed")


def approved_spot_migration(client, ws_client) -> tuple[str, str]:
    client.start_analysis("cost")
    rec = wait_for_recommendation(client, kind="spot_migration", timeout=120, events=ws_client)
    rec = wait_for_validation(client, rec.id, min_agents=3, timeout=120, events=ws_client)
    assert rec.status == "validated", f"recommendation {rec.id} is '{rec.status}': " \
        f"{[(v.agent, v.verdict, v.reason) for v in rec.validations]}"
    return rec.id, client.approve_recommendation(rec.id).optimization_id


def step_event(ws_client, opt_id: str, kind: str, step: str, timeout: float = 90):
    return ws_client.wait_for_event(
        f"optimization.step_{kind}",
        lambda e: e.entity_id == opt_id and e.data.get("step") == step, timeout=timeout)


def spot_ids(ec2, customer_id: str, *, running_only: bool = True) -> list[str]:
    return sorted(i["InstanceId"] for i in customer_instances(ec2, customer_id,
                                                              running_only=running_only)
                  if i.get("InstanceLifecycle") == "spot")


def assert_fully_undone(client, ec2, redis_client, clickhouse, customer_id: str, opt,
                        cost_before: float, ws_client) -> None:
    """Traffic home, spot gone, cost at baseline, reason in audit and events."""
    weight = redis_client.hgetall(TRAFFIC_KEY.format(customer_id=customer_id))
    assert not weight, f"traffic weight left behind in Redis: {weight}"
    left = spot_ids(ec2, customer_id)
    assert left == [], f"spot instances still running after rollback: {left}"
    cost_after = client.get_costs().monthly_cost
    assert_rollback_successful(opt, cost_before=cost_before, cost_after=cost_after)
    say(f"Cost ${cost_before:,.0f} -> ${cost_after:,.0f}/month; no spot instance; "
        "no traffic weight")

    # The workload serves the whole demand from on-demand again (inventory refresh ~3 s).
    def recent_spot_share() -> float | None:
        rows = clickhouse.execute(
            "SELECT sumIf(throughput_rps, variant = 'spot'), sum(throughput_rps) "
            "FROM workload_metrics WHERE customer_id = %(c)s AND ts >= now() - 3",
            {"c": customer_id})
        spot, total = rows[0]
        return None if not total else spot / total

    wait_for_condition(lambda: recent_spot_share() == 0.0, timeout=30, interval=1,
                       description="the workload to serve nothing from spot")
    say("Workload's spot share of throughput over the last 3 s: 0%")

    audit = client.audit(entity_id=opt.id).data
    rolled = [a for a in audit if a.action == "rolled_back"]
    assert rolled, f"no 'rolled_back' audit entry for {opt.id}: {[a.action for a in audit]}"
    audit_reason = rolled[0].data.get("reason")
    assert audit_reason == opt.reason, f"audit reason {audit_reason!r} != {opt.reason!r}"
    events = [e for e in ws_client.snapshot() if e.entity_id == opt.id
              and e.type == "optimization.rolled_back"]
    assert events and events[0].data.get("reason") == opt.reason, ws_client.timeline()
    say("Audit and events carry the reason")


@pytest.mark.req("REQ-FAULT-01", "REQ-ROLL-03")
def test_fault_at_fifty_percent_rolls_back(test_customer, test_infrastructure, ws_client,
                                           faults, ec2, redis_client, clickhouse, narrative):
    client = test_customer.client
    narrative.banner("ROLLBACK: A FAULT AT THE 50% STEP")

    with phase(1, "Recording baseline and approving a validated spot migration"):
        cost_before = client.get_costs().monthly_cost
        # Armed now, active once the rollout sends 50% of traffic to spot: the fault hits
        # exactly the 50% step however slowly this test runs beside the rollout.
        faults.inject(variant="spot", error_rate=0.25, from_traffic_pct=50)
        rec_id, opt_id = approved_spot_migration(client, ws_client)
        say(f"Baseline ${cost_before:,.0f}/month; optimization {opt_id}; spot error rate "
            f"+25% armed for 50% traffic")

    with phase(2, "The canary passes; the spot variant fails once traffic moves to 50%"):
        step_event(ws_client, opt_id, "completed", "validate_10")
        # Terminated ones count too: the rollout may already be rolling back by now.
        launched = spot_ids(ec2, test_customer.id, running_only=False)
        assert launched, "no spot instance was launched before the 50% step"
        say(f"validate_10 passed; {len(launched)} spot instance(s) launched")

    with phase(3, "The 50% validation fails and the rollout rolls back"):
        opt = wait_for_optimization_status(client, opt_id, FINISHED, timeout=120,
                                           events=ws_client)
        assert_rollback_successful(opt)
        steps = {s.name: s.status for s in opt.steps}
        assert steps.get("validate_10") == "completed" and \
            steps.get("validate_50") == "failed", f"expected validate_10 completed and " \
            f"validate_50 failed: {steps}"
        assert steps.get("shift_traffic_100") == "skipped" and \
            steps.get("terminate_on_demand") == "skipped", steps
        assert steps.get("rollback") == "completed", steps
        assert opt.reason and opt.reason.startswith("validate_50") and "error rate" in \
            opt.reason, f"reason does not name the step and the measurement: {opt.reason}"
        say(f"Rolled back: {opt.reason}")

    with phase(4, "Everything undone"):
        assert_fully_undone(client, ec2, redis_client, clickhouse, test_customer.id, opt,
                            cost_before, ws_client)
        on_demand = [i for i in customer_instances(ec2, test_customer.id)
                     if i.get("InstanceLifecycle") != "spot"]
        assert len(on_demand) == test_infrastructure.spec.size, \
            f"on-demand fleet changed: {len(on_demand)} of {test_infrastructure.spec.size}"

    narrative.banner("FAULT-TRIGGERED ROLLBACK PASSED")


@pytest.mark.req("REQ-ROLL-02", "REQ-ROLL-03")
def test_customer_rolls_back_mid_rollout(test_customer, test_infrastructure, ws_client, ec2,
                                         redis_client, clickhouse, narrative):
    client = test_customer.client
    narrative.banner("ROLLBACK: THE CUSTOMER ASKS FOR IT MID-ROLLOUT")

    with phase(1, "Recording baseline and approving a validated spot migration"):
        cost_before = client.get_costs().monthly_cost
        _, opt_id = approved_spot_migration(client, ws_client)
        say(f"Baseline ${cost_before:,.0f}/month; optimization {opt_id}")

    with phase(2, "Customer asks for a rollback while traffic sits at 50%"):
        step_event(ws_client, opt_id, "running", "shift_traffic_50")
        weight = redis_client.hgetall(TRAFFIC_KEY.format(customer_id=test_customer.id))
        assert weight.get(b"spot_pct", weight.get("spot_pct")) in (b"50", "50"), weight
        client.rollback_optimization(opt_id)
        say(f"Rollback requested at 50% (traffic weight was {weight})")

    with phase(3, "The rollout stops and rolls back"):
        opt = wait_for_optimization_status(client, opt_id, FINISHED, timeout=120,
                                           events=ws_client)
        assert_rollback_successful(opt)
        assert "customer" in (opt.reason or ""), f"reason does not say who: {opt.reason}"
        steps = {s.name: s.status for s in opt.steps}
        ran_after = [n for n in ("validate_100", "shift_traffic_100", "terminate_on_demand")
                     if steps.get(n) not in ("skipped", "pending")]
        assert not ran_after, f"steps ran after the rollback request: {steps}"
        say(f"Rolled back: {opt.reason}")

    with phase(4, "Everything undone"):
        assert_fully_undone(client, ec2, redis_client, clickhouse, test_customer.id, opt,
                            cost_before, ws_client)
        audit = [a.action for a in client.audit(entity_id=opt_id).data]
        assert "rollback_requested" in audit, audit

    narrative.banner("CUSTOMER ROLLBACK PASSED")
