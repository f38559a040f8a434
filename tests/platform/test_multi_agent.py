"""Multi-agent coordination: merged findings, and the cost agent's re-pricing verdict."""

from __future__ import annotations

from optiinfra.common import gates
from optiinfra.common.domain import AGENTS, REQUIRED_VALIDATORS, merge_findings


def test_findings_are_merged_in_agent_order_and_tagged() -> None:
    results = {
        "resource": {"findings": [{"pool": "api", "metric": "utilization", "value": 0.5}]},
        "cost": {"findings": [{"pool": "api", "metric": "monthly_cost", "value": 280.0},
                              {"pool": "gpu", "metric": "monthly_cost", "value": 3500.0}]},
        "application": {"error": "timeout"},  # a failed agent contributes nothing
    }
    merged = merge_findings(results, AGENTS)
    assert [(f["agent"], f["pool"]) for f in merged] == [
        ("cost", "api"), ("cost", "gpu"), ("resource", "api")]
    assert merge_findings({}, AGENTS) == []
    # the agent tag wins over a finding that claims another agent
    assert merge_findings({"cost": {"findings": [{"agent": "x"}]}}, ("cost",)) == [
        {"agent": "cost"}]


def test_a_spot_migration_needs_all_four_agents() -> None:
    assert set(REQUIRED_VALIDATORS["spot_migration"]) == set(AGENTS)


def test_savings_still_hold_within_drift() -> None:
    v = gates.savings_still_hold(1000.0, 1050.0, [])
    assert v.approved and v.data["drift"] == 0.05 and "$1,050.00" in v.reason


def test_savings_that_drifted_or_vanished_are_rejected() -> None:
    v = gates.savings_still_hold(1000.0, 800.0, [])
    assert not v.approved and "20.0%" in v.reason
    v = gates.savings_still_hold(1000.0, 900.0, ["i-1", "i-2"])
    assert not v.approved and "2 candidate instance(s)" in v.reason
    assert not gates.savings_still_hold(1000.0, 0.0, []).approved
    assert not gates.savings_still_hold(0.0, 10.0, []).approved


def test_a_proposal_is_identified_by_kind_pools_and_instances() -> None:
    from optiinfra.common.domain import proposal_key

    a = {"pools": ["b", "a"], "candidates": [{"instance_id": "i-2"}, {"instance_id": "i-1"}]}
    b = {"pools": ["a", "b"], "candidates": [{"instance_id": "i-1"}, {"instance_id": "i-2"}]}
    assert proposal_key("spot_migration", a) == proposal_key("spot_migration", b)
    assert proposal_key("spot_migration", a) != proposal_key("scale_out", a)
    grown = {**b, "candidates": [*b["candidates"], {"instance_id": "i-3"}]}
    assert proposal_key("spot_migration", grown) != proposal_key("spot_migration", b)
    assert proposal_key("scale_out", {"pools": ["a"]}) == ("scale_out", ("a",), ())
