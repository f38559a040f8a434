"""The typed client against the live stack: every portal endpoint it wraps answers in the
shape its pydantic models expect (its fast tests only see a fake portal).

What this catches: a client model that drifted from what the platform really sends (a field
renamed, a type changed, a route without a declared response model answering differently),
which a MockTransport test cannot see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness import phase, say
from harness.domain import wait_for_recommendation, wait_for_validation

pytestmark = [pytest.mark.e2e, pytest.mark.requires_aws]


@pytest.mark.req("REQ-CLIENT-01")
def test_every_typed_call_parses_the_live_answers(test_customer, test_infrastructure,
                                                   api_client, ws_client):
    client = test_customer.client

    with phase(1, "Who am I, what do prices come from, what did I save"):
        me = client.me()
        assert (me.id, me.name) == (test_customer.id, test_customer.name), me
        catalogue = client.catalogue()
        assert catalogue.source and catalogue.as_of and "us-east-1" in catalogue.regions
        report = client.savings_report()
        assert report.optimizations == [] and report.predicted_monthly_savings == 0, report
        assert client.list_optimizations().count == 0
        say(f"{me.name}; catalogue as of {catalogue.as_of}; nothing saved yet")

    with phase(2, "A proposal, rejected with a reason"):
        client.start_analysis("cost", ["aws"])
        rec = wait_for_recommendation(client, kind="spot_migration", timeout=120,
                                      events=ws_client)
        rec = wait_for_validation(client, rec.id, timeout=120, events=ws_client)
        rejected = client.reject_recommendation(rec.id, reason="not this quarter")
        assert rejected.status == "rejected" and rejected.reason == "not this quarter", rejected
        listed = client.list_recommendations(status="rejected")
        assert [r.id for r in listed.data] == [rec.id], listed
        say(f"recommendation {rec.id} rejected: {rejected.reason}")

    with phase(3, "The admin side: faults and the simulator's state"):
        active = api_client.inject_fault(test_customer.id, pool="api", quality_drop=0.1,
                                         duration_s=60)
        (fault,) = active.of(test_customer.id)
        assert (fault.pool, fault.quality_drop) == ("api", 0.1), fault
        assert 0 < (fault.expires_in_s or 0) <= 60, fault
        assert [f.pool for f in api_client.list_faults().of(test_customer.id)] == ["api"]
        assert api_client.clear_faults(test_customer.id).cleared == 1
        assert api_client.list_faults().of(test_customer.id) == []
        state = api_client.workload_state()
        assert state.last_tick is not None and state.samples_written, state
        age = datetime.now(UTC).replace(tzinfo=None) - state.last_tick.replace(tzinfo=None)
        assert age < timedelta(seconds=30), f"the simulator's last tick is {age} old"
        say(f"fault set, listed, cleared; simulator ticked {age.total_seconds():.1f}s ago")

    with phase(4, "Inventory, the audit trail, patterns and health, typed"):
        spec = test_infrastructure.spec
        inventory = client.discover(region=spec.region)
        assert len(inventory.instances) == spec.size, inventory.instances
        assert all(i.lifecycle == "on-demand" and i.state in ("pending", "running")
                   and i.region == spec.region and i.availability_zone.startswith(spec.region)
                   for i in inventory.instances), inventory.instances
        audit = client.audit(entity_id=rec.id)
        trail = [(a.action, a.from_status, a.to_status) for a in audit.data]
        assert audit.count == len(audit.data) and trail, audit
        assert trail[0] == ("created", None, "pending"), trail  # oldest first
        assert trail[-1] == ("rejected", "validated", "rejected"), trail
        assert audit.data[-1].data.get("reason") == "not this quarter", audit.data[-1]
        assert {(a.entity_type, a.entity_id) for a in audit.data} == {("recommendation", rec.id)}
        patterns = client.list_patterns()
        assert patterns.count == len(patterns.data) == 0, patterns  # nothing ran: nothing learnt
        assert api_client.health().status == "ok"
        say(f"{len(inventory.instances)} instances; audit of {rec.id}: "
            f"{[a for a, _, _ in trail]}; no patterns yet; portal healthy")
