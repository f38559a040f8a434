"""Reports after a rolled-back optimization, then after a completed one.

docs/api.md, `GET /api/v1/reports/savings`: every optimization is listed (oldest first) with
its status, but only `completed` ones count towards the sums; `baseline_monthly_cost` is the
first completed one's `cost_before`; `current_monthly_cost` is live. A rolled-back
optimization leaves no step `pending` and the bill at its baseline;
`GET /api/v1/recommendations?status=` lists only recommendations in that state.

What this catches: a canary that sends more than its 10% to spot, a report that counts a
rolled-back optimization's savings (or its cost before as the baseline), a rollback that
leaves steps pending, a status filter that lets other states through.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    assert_optimization_successful,
    assert_rollback_successful,
    wait_for_optimization_complete,
    wait_for_optimization_status,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]

FINISHED = ("completed", "rolled_back", "failed")
RECOMMENDATION_STATES = ("pending", "validated", "rejected", "approved", "superseded")


def validated_spot_migration(client, ws_client, exclude: set[str]):
    client.start_analysis("cost")
    rec = wait_for_recommendation(client, kind="spot_migration", timeout=120,
                                  events=ws_client, exclude=exclude)
    rec = wait_for_validation(client, rec.id, min_agents=4, timeout=120, events=ws_client)
    assert rec.status == "validated", f"recommendation {rec.id} is '{rec.status}': " \
        f"{[(v.agent, v.verdict, v.reason) for v in rec.validations]}"
    return rec


def canary_spot_share(clickhouse, customer_id: str, opt_id: str) -> float | None:
    """The spot variant's share of the throughput at the 10% step, over the seconds in which
    both variants served (a spot instance joins the workload's inventory a few s late)."""
    ((spot, total),) = clickhouse.execute(
        "SELECT sum(s), sum(t) FROM (SELECT ts, sumIf(throughput_rps, variant = 'spot') AS s, "
        "sum(throughput_rps) AS t, uniqExact(variant) AS v FROM workload_metrics "
        "WHERE customer_id = %(c)s AND optimization_id = %(o)s AND traffic_pct = 10 "
        "GROUP BY ts) WHERE v = 2", {"c": customer_id, "o": opt_id})
    return None if not total else spot / total


def assert_status_filter_holds(client) -> dict[str, set[str]]:
    """Each ``?status=`` lists exactly the recommendations in that state."""
    every = client.list_recommendations().data
    by_state: dict[str, set[str]] = {}
    for state in RECOMMENDATION_STATES:
        listed = client.list_recommendations(status=state).data
        wrong = [(r.id, r.status) for r in listed if r.status != state]
        assert not wrong, f"GET /recommendations?status={state} lists {wrong}"
        by_state[state] = {r.id for r in listed}
        want = {r.id for r in every if r.status == state}
        assert by_state[state] == want, \
            f"?status={state} lists {sorted(by_state[state])}, in that state: {sorted(want)}"
    return by_state


@pytest.mark.req("REQ-ROLL-02", "REQ-ROLL-03", "REQ-SPOT-07")
def test_a_rolled_back_optimization_counts_for_nothing_in_the_report(
        test_customer, test_infrastructure, ws_client, clickhouse, narrative):
    client = test_customer.client
    narrative.banner("SAVINGS REPORT AFTER A ROLLBACK")

    with phase(1, "Baseline, and a validated spot migration approved"):
        cost_before = client.get_costs().monthly_cost
        first = validated_spot_migration(client, ws_client, exclude=set())
        opt_id = client.approve_recommendation(first.id).optimization_id
        say(f"Baseline ${cost_before:,.2f}/month; optimization {opt_id}")

    with phase(2, "The canary serves 10% from spot; then the customer rolls back"):
        ws_client.wait_for_event(
            "optimization.step_completed",
            lambda e: e.entity_id == opt_id and e.data.get("step") == "validate_10",
            timeout=90)
        client.rollback_optimization(opt_id, reason="changed my mind")
        share = canary_spot_share(clickhouse, test_customer.id, opt_id)
        assert share is not None and 0.05 <= share <= 0.15, \
            f"at the 10% step the spot variant served {share} of the throughput " \
            "(ClickHouse, seconds where both variants ran)"
        opt = wait_for_optimization_status(client, opt_id, FINISHED, timeout=120,
                                           events=ws_client)
        cost_now = client.get_costs().monthly_cost
        assert_rollback_successful(opt, cost_before=cost_before, cost_after=cost_now)
        pending = [s.name for s in opt.steps if s.status == "pending"]
        assert not pending, f"a rolled-back optimization still lists steps as pending: " \
            f"{pending}"
        say(f"Rolled back: {opt.reason}")

    with phase(3, "The recommendation lists under 'approved' only"):
        states = assert_status_filter_holds(client)
        assert first.id in states["approved"], \
            f"approved recommendation {first.id} not under ?status=approved: {states}"

    with phase(4, "The report lists the rollback and counts none of its savings"):
        report = client.savings_report()
        lines = {line.id: line for line in report.optimizations}
        assert opt_id in lines and lines[opt_id].status == "rolled_back", report.optimizations
        assert report.counts.get("rolled_back") == 1 and report.counts.get("completed") == 0, \
            report.counts
        assert report.predicted_monthly_savings == 0 and \
            report.realised_monthly_savings == 0 and report.by_kind == {}, \
            f"a rolled-back optimization counted towards the savings: predicted " \
            f"{report.predicted_monthly_savings}, realised {report.realised_monthly_savings}" \
            f", by kind {report.by_kind}"
        assert report.baseline_monthly_cost is None and report.monthly_cost_change is None \
            and report.prediction_error is None, report
        assert abs(report.current_monthly_cost - cost_before) <= 0.01, \
            (report.current_monthly_cost, cost_before)
        say("listed as rolled_back; $0 predicted, $0 realised, no baseline")

    with phase(5, "A second migration completes; only it counts"):
        second = validated_spot_migration(client, ws_client, exclude={first.id})
        done_id = client.approve_recommendation(second.id).optimization_id
        done = wait_for_optimization_complete(client, done_id, timeout=240, events=ws_client)
        assert_optimization_successful(done)
        report = client.savings_report()
        assert [line.id for line in report.optimizations] == [opt_id, done_id], \
            f"the report's lines are not oldest first: {report.optimizations}"
        assert report.counts.get("rolled_back") == 1 and report.counts.get("completed") == 1, \
            report.counts
        assert done.actual_monthly_savings is not None and done.cost_before is not None
        assert abs(report.predicted_monthly_savings - done.predicted_monthly_savings) <= 0.01 \
            and abs(report.realised_monthly_savings - done.actual_monthly_savings) <= 0.01, \
            f"report predicted {report.predicted_monthly_savings} / realised " \
            f"{report.realised_monthly_savings}, the completed optimization alone " \
            f"{done.predicted_monthly_savings} / {done.actual_monthly_savings}"
        kinds = report.by_kind
        assert set(kinds) == {"spot_migration"} and kinds["spot_migration"]["count"] == 1, kinds
        assert report.baseline_monthly_cost is not None and \
            abs(report.baseline_monthly_cost - done.cost_before) <= 0.01, report
        assert done.actual_monthly_savings > 0, \
            f"a completed spot migration realised ${done.actual_monthly_savings:,.2f}"
        states = assert_status_filter_holds(client)
        assert {first.id, second.id} <= states["approved"], states
        say(f"Report: ${report.realised_monthly_savings:,.2f}/month realised, from the "
            "completed optimization only")
