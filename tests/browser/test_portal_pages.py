"""The portal's pages and their page objects in a real Chromium, against a fake API.

No Docker and no server: Playwright answers every request of the tab itself, the pages from
``optiinfra/portal/static/`` and the API from what each test sets, and plays the WebSocket's
server. The e2e lane (scenarios/browser) runs the same pages against the real platform.
Skipped, with the reason, where no Chromium is installed (``make chromium`` installs it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect, sync_playwright

from harness.domain._browser import BrowserUnavailableError, launch_options
from harness.domain._portal_pages import PortalPageError, PortalPages
from optiinfra.portal import web

BASE = "http://portal.test"
TOKEN = "good-token"
Answer = tuple[int, Any] | Callable[[], tuple[int, Any]]


class FakePortal:
    """Serves the real pages; answers ``/api/v1`` from ``self.api``; plays ``/ws/events``."""

    def __init__(self, page: Page) -> None:
        self.api: dict[tuple[str, str], Answer] = {
            ("GET", "/me"): (200, {"id": "c1", "name": "acme", "created_at": "2026-01-01"}),
            ("GET", "/costs"): (200, {"monthly_cost": 1000.0, "instance_count": 2}),
            ("GET", "/recommendations"): (200, {"data": [], "count": 0}),
        }
        self.calls: list[tuple[str, str]] = []
        self.sockets: list[WebSocketRoute] = []
        page.route(f"{BASE}/**", self._http)
        page.route_web_socket(re.compile(r"/ws/events"), self._ws)

    def _http(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.path.startswith("/api/v1/"):
            key = (route.request.method, url.path.removeprefix("/api/v1"))
            self.calls.append(key)
            if route.request.headers.get("authorization") != f"Bearer {TOKEN}":
                route.fulfill(status=401, json={"detail": "invalid token"})
                return
            answer = self.api.get(key, (404, {"detail": "not found"}))
            status, body = answer() if callable(answer) else answer
            route.fulfill(status=status, json=body)
        elif url.path.startswith("/assets/"):
            name = url.path.removeprefix("/assets/")
            route.fulfill(path=web.STATIC / name, content_type=web.ASSETS[name])
        else:
            route.fulfill(path=web.STATIC / "index.html", content_type="text/html")

    def _ws(self, ws: WebSocketRoute) -> None:
        self.sockets.append(ws)
        ws.send(json.dumps({"type": "connected", "customer_id": "c1", "entity_id": "c1"}))

    def emit(self, type_: str, entity_id: str) -> None:
        for ws in self.sockets:
            ws.send(json.dumps({"type": type_, "customer_id": "c1", "entity_id": entity_id,
                                "at": "2026-01-01T00:00:00Z", "data": {}}))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    try:
        options = launch_options()
    except BrowserUnavailableError as e:
        pytest.skip(f"no browser here: {e}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(**options)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def fake(tab: Page) -> FakePortal:
    return FakePortal(tab)


def rec(status: str = "validated", **kw: Any) -> dict[str, Any]:
    return {"id": "r1", "kind": "spot_migration", "status": status, "analysis_id": "a1",
            "estimated_monthly_savings": 600.5, "confidence": 0.8,
            "required_validators": ["performance", "application"],
            "validations": [{"agent": "performance", "verdict": "approve", "reason": "p95 ok"},
                            {"agent": "application", "verdict": "approve",
                             "reason": "quality 0.95"}],
            "reason": None, "optimization_id": None, **kw}


def test_sign_in_shows_the_refusal_then_signs_in(tab: Page, fake: FakePortal) -> None:
    portal = PortalPages(tab, BASE)
    assert portal.sign_in_fails("wrong") == "Could not sign in: 401 invalid token"
    dashboard = portal.sign_in(TOKEN)
    portal.expect_live("connected")
    assert dashboard.monthly_cost() == 1000.0
    assert tab.evaluate("sessionStorage.getItem('optiinfra.token')") == TOKEN


def test_recommendation_figures_and_validations(tab: Page, fake: FakePortal) -> None:
    fake.api[("GET", "/recommendations/r1")] = (200, rec())
    portal = PortalPages(tab, BASE)
    portal.sign_in(TOKEN)
    page = portal.recommendation("r1")
    page.expect_status("validated")
    assert page.savings() == 600.5 and page.confidence() == 0.8
    assert {a: v.verdict for a, v in page.validations().items()} == {
        "performance": "approve", "application": "approve"}


def test_an_unknown_id_reads_not_found(tab: Page, fake: FakePortal) -> None:
    portal = PortalPages(tab, BASE)
    portal.sign_in(TOKEN)
    page = portal.recommendation("someone-elses")
    expect(page.not_found).to_be_visible()
    assert page.id_figure.count() == 0


def test_a_refused_approval_is_shown_and_raised(tab: Page, fake: FakePortal) -> None:
    fake.api[("GET", "/recommendations/r1")] = (200, rec())
    fake.api[("POST", "/recommendations/r1/approve")] = (
        409, {"detail": "recommendation r1 is already decided"})
    portal = PortalPages(tab, BASE)
    portal.sign_in(TOKEN)
    with pytest.raises(PortalPageError, match="409 recommendation r1 is already decided"):
        portal.recommendation("r1").approve()


def test_approve_posts_to_the_recommendation_shown(tab: Page, fake: FakePortal) -> None:
    fake.api[("GET", "/recommendations/r1")] = (200, rec())
    fake.api[("POST", "/recommendations/r1/approve")] = (202, {"optimization_id": "o1"})
    fake.api[("GET", "/optimizations/o1")] = (200, {
        "id": "o1", "recommendation_id": "r1", "status": "pending", "steps": [],
        "quality_score": None, "cost_before": 1000.0, "cost_after": None,
        "predicted_monthly_savings": 600.5, "actual_monthly_savings": None})
    portal = PortalPages(tab, BASE)
    portal.sign_in(TOKEN)
    rollout = portal.recommendation("r1").approve()
    assert rollout.id == "o1"
    assert ("POST", "/recommendations/r1/approve") in fake.calls


def test_a_rejection_shows_its_reason(tab: Page, fake: FakePortal) -> None:
    fake.api[("GET", "/recommendations/r1")] = (200, rec("pending"))
    fake.api[("POST", "/recommendations/r1/reject")] = (
        200, rec("rejected", reason="rejected by the customer: too risky"))
    portal = PortalPages(tab, BASE)
    portal.sign_in(TOKEN)
    page = portal.recommendation("r1")
    page.reject("too risky")
    assert page.reason() == "rejected by the customer: too risky"


def test_the_rollout_follows_events_to_100_without_reload(tab: Page, fake: FakePortal) -> None:
    names = [("launch_spot_instances", 0), ("shift_traffic_10", 10), ("validate_10", 10),
             ("shift_traffic_50", 50), ("validate_50", 50), ("shift_traffic_100", 100),
             ("validate_100", 100), ("terminate_on_demand", 100)]
    done = {"n": 0}

    def optimization() -> tuple[int, Any]:
        n = done["n"]
        steps = [{"name": s, "traffic_pct": t, "started_at": None, "finished_at": None,
                  "status": "completed" if i < n else "pending"}
                 for i, (s, t) in enumerate(names)]
        finished = n == len(names)
        return 200, {"id": "o1", "recommendation_id": "r1", "steps": steps,
                     "status": "completed" if finished else "running",
                     "quality_score": 0.95 if finished else None, "cost_before": 1000.0,
                     "cost_after": 400.0 if finished else None,
                     "predicted_monthly_savings": 600.0,
                     "actual_monthly_savings": 600.0 if finished else None}

    fake.api[("GET", "/optimizations/o1")] = optimization
    portal = PortalPages(tab, BASE)
    portal.sign_in(TOKEN)
    rollout = portal.rollout("o1")
    rollout.expect_status("running")
    expect(tab.get_by_text("Signed in as acme")).to_be_visible()  # whichever page opens first
    rollout.watch_traffic()
    portal.mark_document()
    for n in range(1, len(names) + 1):
        done["n"] = n
        fake.emit("optimization.step_completed", "o1")
        rollout.expect_traffic(names[n - 1][1])
    rollout.expect_status("completed")
    portal.assert_not_reloaded()
    assert rollout.traffic_seen() == [0, 10, 50, 100]
    assert rollout.cost_after() == 400.0 and rollout.current_cost() == 1000.0
    fake.emit("optimization.completed", "someone-else")  # not ours: no refresh, no error
    assert rollout.quality() == 0.95
