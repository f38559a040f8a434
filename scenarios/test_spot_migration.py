"""The seed's journey: a customer's on-demand GPU fleet moves to spot, in nine phases.

Black box: the scenario talks to the portal (HTTP + WebSocket) and sets up the outside world
(EC2 instances in the simulator); it peeks into Qdrant and the simulator to check the effects.
"""

from __future__ import annotations

import pytest

from harness import phase, say
from harness.domain import (
    assert_cost_reduced,
    assert_multi_agent_coordination,
    assert_optimization_successful,
    assert_quality_maintained,
    assert_savings_match_prediction,
    customer_instances,
    wait_for_optimization_complete,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.requires_aws]


@pytest.mark.req("REQ-SPOT-01", "REQ-SPOT-02", "REQ-SPOT-03", "REQ-SPOT-04", "REQ-SPOT-05",
                 "REQ-SPOT-06", "REQ-SPOT-07", "REQ-SPOT-08", "REQ-AGENT-01", "REQ-LEARN-01",
                 "REQ-EVENT-01")
def test_complete_spot_migration_workflow(test_customer, test_infrastructure, ws_client, ec2,
                                          qdrant, narrative):
    client = test_customer.client
    narrative.banner("TESTING COMPLETE SPOT MIGRATION WORKFLOW")

    with phase(1, "Recording initial state"):
        inventory = client.discover(region=test_infrastructure.spec.region)
        assert len(inventory.instances) == test_infrastructure.spec.size, inventory.instances
        initial_cost = client.get_costs().monthly_cost
        assert initial_cost > 0
        say(f"Instances discovered: {len(inventory.instances)}")
        say(f"Initial monthly cost: ${initial_cost:,.0f}")

    with phase(2, "Triggering cost agent analysis"):
        analysis = client.start_analysis("cost")
        assert analysis.id
        say(f"Analysis ID: {analysis.id}")

    with phase(3, "Waiting for spot migration recommendation"):
        rec = wait_for_recommendation(client, kind="spot_migration", timeout=120,
                                      events=ws_client)
        assert rec.estimated_monthly_savings > 0, rec
        say(f"Recommendation generated: {rec.id}")
        say(f"Estimated savings: ${rec.estimated_monthly_savings:,.0f}/month "
            f"(confidence {rec.confidence:.2f})")

    with phase(4, "Waiting for multi-agent validation"):
        rec = wait_for_validation(client, rec.id, min_agents=2, timeout=120, events=ws_client)
        assert rec.status == "validated", f"recommendation {rec.id} is '{rec.status}': " \
            f"{[(v.agent, v.verdict, v.reason) for v in rec.validations]}"
        agents = assert_multi_agent_coordination(rec, min_agents=2)
        assert {"performance", "application"} <= set(agents), agents
        say(f"{len(agents)} agent(s) validated: {', '.join(agents)}")

    with phase(5, "Customer approves recommendation"):
        optimization_id = client.approve_recommendation(rec.id).optimization_id
        assert optimization_id
        say(f"Approved. Optimization ID: {optimization_id}")

    with phase(6, "Monitoring execution"):
        opt = wait_for_optimization_complete(client, optimization_id, timeout=600,
                                             events=ws_client)
        assert_optimization_successful(opt, required_traffic=(10, 50, 100))
        names = [s.name for s in opt.steps]
        assert any("terminate" in n for n in names), f"no on-demand termination step: {names}"
        assert all(s.started_at and s.finished_at for s in opt.steps), opt.steps
        left = customer_instances(ec2, test_customer.id)
        on_demand = [i["InstanceId"] for i in left if i.get("InstanceLifecycle") != "spot"]
        assert on_demand == [], f"on-demand instances still running: {on_demand}"
        say("Optimization completed successfully")
        say(f"{len(opt.steps)} execution steps completed")

    with phase(7, "Validating quality maintained"):
        assert_quality_maintained(opt.quality_score, threshold=0.90)
        say(f"Quality maintained above 90% ({opt.quality_score:.3f})")

    with phase(8, "Validating cost savings"):
        new_cost = client.get_costs().monthly_cost
        actual = initial_cost - new_cost
        say(f"New monthly cost: ${new_cost:,.0f}")
        say(f"Actual savings: ${actual:,.0f}/month")
        pct = assert_cost_reduced(initial_cost, new_cost, min_pct=30)
        assert_savings_match_prediction(rec.estimated_monthly_savings, actual, tolerance=0.2)
        say(f"Cost reduced by {pct:.1f}%")

    with phase(9, "Verifying learning loop"):
        patterns = client.list_patterns().data
        ours = [p for p in patterns if p.optimization_id == optimization_id]
        assert ours, f"no pattern for optimization {optimization_id} among {len(patterns)}"
        pattern = ours[0]
        points = qdrant.retrieve(pattern.collection, ids=[pattern.id], with_payload=True)
        assert [str(p.id) for p in points] == [pattern.id], "pattern not in Qdrant"
        events = [e.type for e in ws_client.snapshot() if e.entity_id == optimization_id]
        assert events, f"no WebSocket events for {optimization_id}:\n{ws_client.timeline()}"
        say("Success pattern stored for future learning")

    narrative.banner("SPOT MIGRATION E2E TEST PASSED")
