"""The application agent's quality gate on a rollout's canary.

Two rollouts of the same spot migration: one whose spot canary loses a little quality but
stays above the threshold (0.90) goes all the way; one whose canary falls below it is stopped
at the 10% validation, rolled back, and says which score it measured. The scores are checked
against the workload's own samples in ClickHouse.

What this catches: a gate that ignores the threshold (or uses another one), a gate that
averages the canary with the on-demand majority (a 10% canary at 0.855 averages to ~0.94), a
gate that is stricter than the threshold (compares with the baseline), a reason without the
number, and a rollout that keeps shifting traffic after a rejecting verdict.
"""

from __future__ import annotations

import re

import pytest

from harness import phase, say
from harness.domain import (
    assert_multi_agent_coordination,
    assert_optimization_successful,
    assert_quality_maintained,
    assert_rollback_successful,
    customer_instances,
    wait_for_optimization_complete,
    wait_for_optimization_status,
    wait_for_recommendation,
    wait_for_validation,
)

# Each rollout takes 10-20 s on a warm stack: not 'slow'.
pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

THRESHOLD = 0.90  # the stack's QUALITY_THRESHOLD
BASE_QUALITY = 0.955  # what the simulated fleet serves without faults
MEASURED = re.compile(r"(\w+): quality (\d\.\d+) below threshold (\d\.\d+) at (\d+)% traffic")


def spot_quality(clickhouse, customer_id: str, opt_id: str, pct: int) -> dict[str, float]:
    """Per pool, the spot variant's throughput-weighted quality while the rollout held pct."""
    rows = clickhouse.execute(
        "SELECT pool, sum(quality_score * throughput_rps) / sum(throughput_rps) "
        "FROM workload_metrics WHERE customer_id = %(c)s AND optimization_id = %(o)s "
        "AND traffic_pct = %(p)s AND variant = 'spot' AND throughput_rps > 0 GROUP BY pool",
        {"c": customer_id, "o": opt_id, "p": pct})
    return {pool: round(q, 4) for pool, q in rows}


def validated_spot_migration(client, ws_client):
    rec = wait_for_recommendation(client, kind="spot_migration", timeout=120, events=ws_client)
    rec = wait_for_validation(client, rec.id, min_agents=3, timeout=120, events=ws_client)
    assert rec.status == "validated", f"recommendation {rec.id} is '{rec.status}': " \
        f"{[(v.agent, v.verdict, v.reason) for v in rec.validations]}"
    assert "application" in assert_multi_agent_coordination(rec, min_agents=3)
    return rec


@pytest.mark.req("REQ-QUAL-02")
def test_canary_that_keeps_quality_passes_the_gate(test_customer, test_infrastructure,
                                                   ws_client, faults, clickhouse, narrative):
    client = test_customer.client
    narrative.banner("QUALITY GATE: A CANARY ABOVE THE THRESHOLD PASSES")

    with phase(1, "Spot variant will serve slightly lower quality, still above the threshold"):
        faults.inject(variant="spot", quality_drop=0.03)
        say(f"Spot quality ~{BASE_QUALITY - 0.03:.3f} (threshold {THRESHOLD:.2f}, on-demand "
            f"~{BASE_QUALITY:.3f})")

    with phase(2, "Cost analysis and multi-agent validation"):
        client.start_analysis("cost")
        rec = validated_spot_migration(client, ws_client)
        say(f"Recommendation {rec.id} validated by {', '.join(rec.approving_agents)}")

    with phase(3, "Approve and roll out"):
        opt_id = client.approve_recommendation(rec.id).optimization_id
        opt = wait_for_optimization_complete(client, opt_id, timeout=300, events=ws_client)
        assert_optimization_successful(opt, required_traffic=(10, 50, 100))
        say(f"Optimization {opt_id} completed through 10/50/100%")

    with phase(4, "The gate measured the canary, not the on-demand majority"):
        assert_quality_maintained(opt.quality_score, threshold=THRESHOLD)
        measured = spot_quality(clickhouse, test_customer.id, opt_id, 100)
        assert measured, f"no spot samples at 100% for {opt_id} in ClickHouse"
        lowest = min(measured.values())
        say(f"Optimization quality_score {opt.quality_score:.4f}; ClickHouse spot quality at "
            f"100%: {measured}")
        assert opt.quality_score < BASE_QUALITY - 0.015, (
            f"quality_score {opt.quality_score:.4f} is the on-demand level (~{BASE_QUALITY}), "
            f"not the spot canary's (ClickHouse: {measured})")
        assert lowest - 0.01 <= opt.quality_score <= max(measured.values()) + 0.01, (
            f"quality_score {opt.quality_score:.4f} does not match ClickHouse {measured}")
        passed = [e for e in ws_client.snapshot() if e.entity_id == opt_id
                  and e.type == "optimization.step_completed"
                  and str(e.data.get("step", "")).startswith("validate_")]
        assert [e.data["step"] for e in passed] == ["validate_10", "validate_50",
                                                    "validate_100"], ws_client.timeline()

    narrative.banner("QUALITY GATE PASSED THE GOOD CANARY")


@pytest.mark.req("REQ-QUAL-01", "REQ-QUAL-03", "REQ-ROLL-01")
def test_canary_below_threshold_is_stopped_at_that_step(test_customer, test_infrastructure,
                                                         ws_client, faults, clickhouse, ec2,
                                                         narrative):
    client = test_customer.client
    narrative.banner("QUALITY GATE: A CANARY BELOW THE THRESHOLD IS STOPPED")

    with phase(1, "Recording baseline and validating a spot migration"):
        cost_before = client.get_costs().monthly_cost
        client.start_analysis("cost")
        rec = validated_spot_migration(client, ws_client)
        say(f"Baseline cost ${cost_before:,.0f}/month; recommendation {rec.id} validated")

    with phase(2, "Spot variant degrades below the threshold, then approval"):
        # After validation: the baseline checks read on-demand quality, which stays healthy.
        faults.inject(variant="spot", quality_drop=0.10)
        opt_id = client.approve_recommendation(rec.id).optimization_id
        say(f"Spot quality ~{BASE_QUALITY - 0.10:.3f} < {THRESHOLD:.2f}; optimization {opt_id}")

    with phase(3, "The rollout is stopped at the 10% validation"):
        opt = wait_for_optimization_status(client, opt_id, ("completed", "rolled_back",
                                                             "failed"),
                                           timeout=180, events=ws_client)
        assert_rollback_successful(opt)
        steps = {s.name: s.status for s in opt.steps}
        assert steps.get("validate_10") == "failed", f"validate_10 is not the failed step: " \
            f"{steps}"
        later = [n for n in ("shift_traffic_50", "validate_50", "shift_traffic_100",
                             "validate_100", "terminate_on_demand") if steps.get(n) != "skipped"]
        assert not later, f"steps after the failed gate were not skipped: " \
            f"{[(n, steps.get(n)) for n in later]}"
        say(f"Rolled back: {opt.reason}")

    with phase(4, "The reason carries the measured score, and it is ClickHouse's"):
        assert opt.reason and opt.reason.startswith("validate_10"), opt.reason
        found = {pool: float(q) for pool, q, thr, pct in MEASURED.findall(opt.reason)
                 if float(thr) == THRESHOLD and pct == "10"}
        assert found, f"no 'quality <score> below threshold {THRESHOLD}' in: {opt.reason}"
        measured = spot_quality(clickhouse, test_customer.id, opt_id, 10)
        for pool, score in found.items():
            assert score < THRESHOLD, f"{pool}: reason says {score}, not below {THRESHOLD}"
            assert pool in measured and abs(measured[pool] - score) <= 0.01, (
                f"{pool}: reason says {score}, ClickHouse spot samples at 10% say "
                f"{measured.get(pool)}")
        say(f"Measured in reason {found}; ClickHouse {measured}")

    with phase(5, "No traffic beyond the canary; spot gone; cost at baseline"):
        beyond = clickhouse.execute(
            "SELECT count() FROM workload_metrics WHERE customer_id = %(c)s AND "
            "optimization_id = %(o)s AND traffic_pct > 10", {"c": test_customer.id, "o": opt_id})
        assert beyond == [(0,)], f"samples beyond 10% traffic after the gate: {beyond}"
        spot = [i["InstanceId"] for i in customer_instances(ec2, test_customer.id)
                if i.get("InstanceLifecycle") == "spot"]
        assert spot == [], f"spot instances still running after rollback: {spot}"
        cost_after = client.get_costs().monthly_cost
        assert_rollback_successful(opt, cost_before=cost_before, cost_after=cost_after)
        events = [e.type for e in ws_client.snapshot() if e.entity_id == opt_id]
        assert "optimization.rolled_back" in events, ws_client.timeline()
        say(f"Cost ${cost_before:,.0f} -> ${cost_after:,.0f}; no spot instance left")

    narrative.banner("QUALITY GATE STOPPED THE BAD CANARY")
