"""The seed's spot migration, driven through the portal's web pages in a real Chromium.

A customer signs in, discovers the fleet, runs the analysis, opens the recommendation, reads
each agent's validation, approves, watches the rollout reach 100% on the live view and reads
the new cost: every step is a click, and every figure the page shows is checked against the
API (and the pattern against Qdrant). Also: a rejection with a reason; another customer's
recommendation typed into the URL; the live view when its WebSocket drops and comes back.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import WebSocketRoute, expect

from harness import phase, say
from harness.domain import (
    ApiError,
    assert_cost_reduced,
    assert_optimization_successful,
    assert_quality_maintained,
    assert_savings_match_prediction,
    create_customer,
    customer_instances,
)
from harness.domain._portal_pages import PortalPages

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.requires_aws]

CENT = 0.01  # the page and the API must agree to the cent


@pytest.mark.slow
@pytest.mark.req("REQ-SPOT-01", "REQ-SPOT-02", "REQ-SPOT-03", "REQ-SPOT-04", "REQ-SPOT-05",
                 "REQ-SPOT-06", "REQ-SPOT-07", "REQ-SPOT-08", "REQ-AGENT-01", "REQ-LEARN-01")
def test_spot_migration_in_browser(portal_page: PortalPages, test_customer, test_infrastructure,
                                   ec2, qdrant, narrative):
    client = test_customer.client
    portal = portal_page
    narrative.banner("SPOT MIGRATION, CLICKED THROUGH THE PORTAL IN CHROMIUM")

    with phase(1, "Recording initial state (Discover instances)"):
        dashboard = portal.dashboard()
        shown = dashboard.discover(region=test_infrastructure.spec.region)
        assert sorted(shown) == sorted(test_infrastructure.instance_ids), \
            f"the page lists {shown}, the fleet is {test_infrastructure.instance_ids}"
        initial_cost = dashboard.monthly_cost()
        api_cost = client.get_costs().monthly_cost
        assert initial_cost == pytest.approx(api_cost, abs=CENT), \
            f"the page shows ${initial_cost:,.2f}/month, the API says ${api_cost:,.2f}"
        say(f"The page lists {len(shown)} instances, ${initial_cost:,.0f}/month")

    with phase(2, "Triggering cost agent analysis (Run analysis)"):
        portal.mark_document()
        analysis_id = dashboard.run_analysis("cost")
        assert client.get_analysis(analysis_id).kind == "cost"
        say(f"Analysis {analysis_id} started from the page")

    with phase(3, "Waiting for spot migration recommendation (live list)"):
        rec_id = dashboard.wait_for_recommendation("spot_migration", timeout_s=120)
        portal.assert_not_reloaded()  # the list was updated by events, not by a reload
        rec_page = dashboard.open_recommendation(rec_id)
        rec = client.get_recommendation(rec_id)
        assert rec.kind == "spot_migration", rec
        savings = rec_page.savings()
        assert savings == pytest.approx(rec.estimated_monthly_savings, abs=CENT), \
            f"page: ${savings:,.2f}, API: ${rec.estimated_monthly_savings:,.2f}"
        assert savings > 0
        say(f"Opened recommendation {rec_id}: ${savings:,.0f}/month estimated")

    with phase(4, "Waiting for multi-agent validation (validations on the page)"):
        rec_page.expect_status("validated", timeout_s=120)
        on_page = rec_page.expect_validations({"performance", "application"}, timeout_s=30)
        rec = client.get_recommendation(rec_id)
        in_api = {v.agent: (v.verdict, v.reason) for v in rec.validations}
        shown_v = {a: (v.verdict, v.reason) for a, v in on_page.items()}
        assert shown_v == in_api, f"page: {shown_v}\nAPI: {in_api}"
        assert all(verdict == "approve" for verdict, _ in shown_v.values()), shown_v
        say(f"{len(on_page)} agents approve on the page: {', '.join(sorted(on_page))}")

    with phase(5, "Customer approves recommendation (Approve)"):
        rollout = rec_page.approve()
        rollout.watch_traffic()
        portal.mark_document()
        rec = client.get_recommendation(rec_id)
        assert rec.status == "approved" and rec.optimization_id == rollout.id, \
            f"API: status {rec.status}, optimization {rec.optimization_id}; page: {rollout.id}"
        say(f"Approved; the page follows optimization {rollout.id}")

    with phase(6, "Monitoring execution (live rollout view)"):
        rollout.expect_traffic(100, timeout_s=300)
        rollout.expect_status("completed", timeout_s=120)
        portal.assert_not_reloaded()
        seen = rollout.traffic_seen()
        assert {10, 50, 100} <= set(seen) and seen == sorted(seen), \
            f"the live view showed traffic {seen}: expected it to climb through 10, 50, 100"
        opt = client.get_optimization(rollout.id)
        assert_optimization_successful(opt, required_traffic=(10, 50, 100))
        api_steps = [(s.name, s.status) for s in opt.steps]
        assert rollout.steps() == api_steps, f"page: {rollout.steps()}\nAPI: {api_steps}"
        left = customer_instances(ec2, test_customer.id)
        on_demand = [i["InstanceId"] for i in left if i.get("InstanceLifecycle") != "spot"]
        assert on_demand == [], f"on-demand instances still running: {on_demand}"
        say(f"The page showed traffic {seen} live, {len(api_steps)} steps completed")

    with phase(7, "Validating quality maintained"):
        quality = rollout.quality()
        assert quality == pytest.approx(opt.quality_score), (quality, opt.quality_score)
        assert_quality_maintained(quality, threshold=0.90)
        say(f"Quality on the page: {quality:.3f}")

    with phase(8, "Validating cost savings (cost before and after)"):
        before, after, now = rollout.cost_before(), rollout.cost_after(), rollout.current_cost()
        assert before == pytest.approx(initial_cost, rel=0.001), (before, initial_cost)
        assert after == pytest.approx(opt.cost_after, abs=CENT), (after, opt.cost_after)
        api_now = client.get_costs().monthly_cost
        assert now == pytest.approx(api_now, abs=CENT), (now, api_now)
        pct = assert_cost_reduced(initial_cost, now, min_pct=30)
        assert_savings_match_prediction(rollout.predicted_savings(), initial_cost - now,
                                        tolerance=0.2)
        dashboard = portal.dashboard()
        assert dashboard.monthly_cost() == pytest.approx(api_now, abs=CENT)
        say(f"Before ${before:,.0f}, after ${now:,.0f}/month: {pct:.1f}% less")

    with phase(9, "Verifying learning loop"):
        ours = [p for p in client.list_patterns().data
                if getattr(p, "optimization_id", None) == rollout.id]
        assert ours, f"no pattern for optimization {rollout.id}"
        points = qdrant.retrieve(ours[0].collection, ids=[ours[0].id], with_payload=True)
        assert [str(p.id) for p in points] == [ours[0].id], "pattern not in Qdrant"
        say("Success pattern stored for future learning")

    narrative.banner("SPOT MIGRATION IN THE BROWSER PASSED")


@pytest.mark.req("REQ-ISO-02")
def test_rejection_and_other_customers_recommendation(portal_page: PortalPages, test_customer,
                                                      test_infrastructure, api_client,
                                                      open_portal):
    client = test_customer.client
    reason = "Not during the quarter-end freeze (e2e browser test)"

    with phase(1, "A recommendation appears after an analysis started on the page"):
        dashboard = portal_page.dashboard()
        dashboard.run_analysis("cost")
        rec_id = dashboard.wait_for_recommendation("spot_migration", timeout_s=120)
        say(f"Recommendation {rec_id}")

    with phase(2, "Rejecting it with a reason"):
        rec_page = dashboard.open_recommendation(rec_id)
        rec_page.reject(reason)
        assert reason in rec_page.reason(), rec_page.reason()
        expect(portal_page.page.get_by_role("button", name="Approve")).to_be_disabled()
        rec = client.get_recommendation(rec_id)
        assert rec.status == "rejected" and reason in (rec.reason or ""), \
            f"API: status {rec.status}, reason {rec.reason!r}"
        say(f"The page shows: rejected, {rec_page.reason()!r}")

    with phase(3, "Another customer types its id into the URL"):
        other = create_customer(api_client)
        try:
            elsewhere = open_portal(other, label="other-customer")
            page = elsewhere.recommendation(rec_id)
            expect(page.not_found).to_be_visible()
            expect(elsewhere.page.get_by_text(rec_id)).to_be_visible()
            assert page.id_figure.count() == 0, "another customer's recommendation is shown"
            with pytest.raises(ApiError) as err:
                other.client.get_recommendation(rec_id)
            assert getattr(err.value, "status", None) == 404, err.value
        finally:
            other.client.close()
        say("Another customer sees 'Recommendation not found' (API: 404)")

    with phase(4, "A wrong token is refused on the sign-in page"):
        message = open_portal(label="wrong-token").sign_in_fails("not-a-real-token")
        assert "401" in message, message
        say(f"The sign-in page says: {message!r}")


@pytest.mark.req("REQ-EVENT-01")
def test_live_view_survives_websocket_drop(page, portal_url, test_customer,
                                           test_infrastructure, browser_recorder):
    client = test_customer.client
    connections: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        ws.connect_to_server()  # a transparent relay the test can cut
        connections.append(ws)

    # Every event-stream connection the page makes goes through the relay.
    page.route_web_socket(re.compile(r"/ws/events"), through)
    browser_recorder.secrets.append(test_customer.token)
    portal = PortalPages(page, portal_url)

    with phase(1, "Signed in; the live view is connected"):
        dashboard = portal.sign_in(test_customer.token)
        portal.expect_live("connected")
        portal.mark_document()
        assert len(connections) == 1, f"{len(connections)} event connections"

    with phase(2, "The WebSocket drops and comes back"):
        # The page's side closes as when the portal restarts (1012); the relay closes the
        # portal's side too.
        connections[-1].close(code=1012, reason="e2e: service restart")
        portal.expect_live("reconnecting")
        say("The page says it is reconnecting")
        portal.expect_live("connected", timeout_s=20)
        assert len(connections) == 2, f"{len(connections)} event connections after the drop"
        say("Reconnected")

    with phase(3, "The page is still usable and live"):
        analysis_id = dashboard.run_analysis("cost")
        dashboard.expect_analysis_status("completed", timeout_s=90)
        rec_id = dashboard.wait_for_recommendation("spot_migration", timeout_s=60)
        portal.assert_not_reloaded()
        api_ids = {r.id for r in client.list_recommendations(kind="spot_migration").data}
        assert rec_id in api_ids, f"the page lists {rec_id}, the API {api_ids}"
        assert client.get_analysis(analysis_id).status == "completed"
        say(f"After the drop, analysis {analysis_id} and recommendation {rec_id} arrived live")
