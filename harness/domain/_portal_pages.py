"""Page objects of the customer portal's web pages (Playwright, sync API).

A scenario clicks through these as a customer would; every wait is Playwright's own
(auto-waiting locators and ``expect`` to a deadline), never a sleep. Figures are read from
``data-value`` attributes, so a test compares the numbers the page shows, unformatted.

    portal = PortalPages(page, portal_url)
    dashboard = portal.sign_in(token)
    dashboard.discover()
    rec = dashboard.open_recommendation(dashboard.wait_for_recommendation("spot_migration"))
    rollout = rec.approve()
    rollout.expect_traffic(100, timeout_s=120)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Locator, Page, expect

_MS = 1000
# Generous: a black-box call may wait on four agents, and CI machines have two cores.
DEFAULT_TIMEOUT_S = 30.0
T = DEFAULT_TIMEOUT_S * _MS


class PortalPageError(AssertionError):
    """The page showed an error, or is not where the test expected it to be."""


def _value(locator: Locator, what: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """The non-empty ``data-value`` of a figure, once the page has filled it in."""
    expect(locator, f"{what}: the page never showed a value").to_have_attribute(
        "data-value", re.compile(r".+"), timeout=timeout_s * _MS)
    return locator.get_attribute("data-value") or ""


def _number(locator: Locator, what: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> float:
    text = _value(locator, what, timeout_s)
    try:
        return float(text)
    except ValueError as e:
        raise PortalPageError(f"{what}: the page shows {text!r}, not a number") from e


class _View:
    def __init__(self, portal: PortalPages) -> None:
        self.portal = portal
        self.page = portal.page

    def figure(self, testid: str) -> Locator:
        return self.page.get_by_test_id(testid)

    def raise_if_error(self, doing: str) -> None:
        self.portal.raise_if_error(doing)


@dataclass(frozen=True)
class Validation:
    agent: str
    verdict: str
    reason: str


class PortalPages:
    """The portal in one browser tab: sign-in, navigation, the error banner, live status."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")

    # -- navigation and state ---------------------------------------------------------------
    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def sign_in(self, token: str) -> DashboardPage:
        self.goto("/app/")
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        signed_in = self.page.get_by_text(re.compile(r"^Signed in as "))
        try:
            expect(signed_in).to_be_visible(timeout=T)
        except AssertionError as e:
            self.raise_if_error("sign in")
            raise PortalPageError(f"sign-in did not finish on {self.page.url}: {e}") from e
        return DashboardPage(self)

    def sign_in_fails(self, token: str) -> str:
        """Signs in with a token the portal should refuse; the error the page shows."""
        self.goto("/app/")
        self.page.get_by_label("API token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.error).to_be_visible(timeout=T)
        return self.error.inner_text()

    def dashboard(self) -> DashboardPage:
        self.page.get_by_role("link", name="OptiInfra").click()
        expect(self.page.get_by_role("heading", name="Your fleet")).to_be_visible(timeout=T)
        return DashboardPage(self)

    def recommendation(self, rec_id: str) -> RecommendationPage:
        """Types the recommendation's address into the URL bar."""
        self.goto(f"/app/recommendations/{rec_id}")
        return RecommendationPage(self, rec_id)

    def rollout(self, optimization_id: str) -> RolloutPage:
        self.goto(f"/app/optimizations/{optimization_id}")
        return RolloutPage(self, optimization_id)

    @property
    def error(self) -> Locator:
        return self.page.locator("#error")

    def raise_if_error(self, doing: str) -> None:
        if self.error.is_visible():
            raise PortalPageError(f"the portal could not {doing}; the page says: "
                                  f"{self.error.inner_text()!r} ({self.page.url})")

    # -- live updates --------------------------------------------------------------------------
    @property
    def live_status(self) -> Locator:
        return self.page.get_by_role("status").filter(has_text="Live updates")

    def expect_live(self, state: str = "connected", timeout_s: float = DEFAULT_TIMEOUT_S
                    ) -> None:
        expect(self.page.locator("#live"),
               f"the live-updates indicator never showed '{state}'").to_have_attribute(
            "data-state", state, timeout=timeout_s * _MS)

    def mark_document(self) -> None:
        """Tags the loaded document; ``assert_not_reloaded`` proves it was never replaced."""
        self.page.evaluate("window.__e2eMark = 'still here'")

    def assert_not_reloaded(self) -> None:
        mark = self.page.evaluate("window.__e2eMark || null")
        if mark != "still here":
            raise PortalPageError(f"the page was reloaded or replaced ({self.page.url})")


class DashboardPage(_View):
    """``/app/``: the fleet, its monthly cost, analyses and the recommendation list."""

    def discover(self, region: str = "us-east-1") -> list[str]:
        """Clicks "Discover instances"; the instance ids the page lists."""
        self.page.get_by_label("Region").select_option(region)
        button = self.page.get_by_role("button", name="Discover instances")
        button.click()
        expect(button).to_be_enabled(timeout=30 * _MS)  # disabled while the call runs
        self.raise_if_error("discover the instances")
        rows = self.page.get_by_role("table", name="Instances").locator("tbody tr")
        return [r.get_attribute("data-id") or "" for r in rows.all()]

    def monthly_cost(self) -> float:
        return _number(self.figure("monthly-cost"), "monthly cost")

    def instance_count(self) -> int:
        return int(_number(self.figure("instance-count"), "instance count"))

    def run_analysis(self, kind: str = "cost") -> str:
        """Starts an analysis; its id, as the page shows it."""
        self.page.get_by_label("Analysis kind").select_option(kind)
        self.page.get_by_role("button", name="Run analysis").click()
        status = self.figure("analysis-status")
        try:
            expect(status).to_have_attribute("data-id", re.compile(r".+"), timeout=T)
        except AssertionError as e:
            self.raise_if_error(f"start a {kind} analysis")
            raise PortalPageError(f"the page shows no analysis id: {e}") from e
        return status.get_attribute("data-id") or ""

    def expect_analysis_status(self, status: str, timeout_s: float = 60) -> None:
        expect(self.figure("analysis-status"),
               f"the analysis never showed '{status}' on the dashboard").to_have_attribute(
            "data-status", status, timeout=timeout_s * _MS)

    def recommendation_rows(self, kind: str | None = None) -> Locator:
        rows = self.page.get_by_role("table", name="Recommendations").locator("tbody tr[data-id]")
        return rows if kind is None else rows.and_(self.page.locator(f'[data-kind="{kind}"]'))

    def wait_for_recommendation(self, kind: str = "spot_migration", timeout_s: float = 120
                                ) -> str:
        """Waits (no reload) until the list shows a recommendation of ``kind``; its id."""
        row = self.recommendation_rows(kind).first
        expect(row, f"no {kind} recommendation appeared in the list").to_be_visible(
            timeout=timeout_s * _MS)
        return row.get_attribute("data-id") or ""

    def open_recommendation(self, rec_id: str) -> RecommendationPage:
        row = self.page.locator(f'tr[data-id="{rec_id}"]')
        row.get_by_role("link").click()
        page = RecommendationPage(self.portal, rec_id)
        expect(page.id_figure).to_have_attribute("data-value", rec_id, timeout=T)
        return page


class RecommendationPage(_View):
    """``/app/recommendations/<id>``: status, savings, each agent's validation, the decision."""

    def __init__(self, portal: PortalPages, rec_id: str) -> None:
        super().__init__(portal)
        self.id = rec_id

    @property
    def id_figure(self) -> Locator:
        return self.figure("rec-id")

    @property
    def status(self) -> Locator:
        return self.figure("rec-status")

    @property
    def not_found(self) -> Locator:
        return self.page.get_by_role("heading", name="Recommendation not found")

    def expect_status(self, status: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        expect(self.status, f"recommendation {self.id} never showed status '{status}'"
               ).to_have_attribute("data-value", status, timeout=timeout_s * _MS)

    def savings(self) -> float:
        return _number(self.figure("rec-savings"), "estimated monthly savings")

    def confidence(self) -> float:
        return _number(self.figure("rec-confidence"), "confidence")

    def reason(self) -> str:
        return _value(self.figure("rec-reason"), "reason")

    def validations(self) -> dict[str, Validation]:
        rows = self.page.get_by_role("table", name="Validations").locator("tbody tr[data-agent]")
        found: dict[str, Validation] = {}
        for row in rows.all():
            agent = row.get_attribute("data-agent") or ""
            cells = row.locator("td").all_inner_texts()
            found[agent] = Validation(agent, cells[0].strip(), cells[1].strip())
        return found

    def expect_validations(self, agents: set[str], timeout_s: float = 120) -> dict[str, Validation]:
        """Waits until the page lists a validation from each of ``agents``."""
        table = self.page.get_by_role("table", name="Validations")
        for agent in sorted(agents):
            expect(table.locator(f'tr[data-agent="{agent}"]'),
                   f"no validation from the {agent} agent on the page").to_be_visible(
                timeout=timeout_s * _MS)
        return self.validations()

    def approve(self) -> RolloutPage:
        """Clicks Approve; the rollout page it leads to."""
        button = self.page.get_by_role("button", name="Approve")
        expect(button, "the Approve button stays disabled").to_be_enabled(timeout=T)
        button.click()
        try:
            expect(self.page).to_have_url(re.compile(r"/app/optimizations/[^/]+$"),
                                          timeout=T)
        except AssertionError as e:
            self.raise_if_error(f"approve recommendation {self.id}")
            raise PortalPageError(f"approving {self.id} did not lead to a rollout: {e}") from e
        optimization_id = self.page.url.rstrip("/").rsplit("/", 1)[-1]
        rollout = RolloutPage(self.portal, optimization_id)
        expect(rollout.figure("opt-id")).to_have_attribute("data-value", optimization_id,
                                                           timeout=T)
        return rollout

    def reject(self, reason: str) -> None:
        self.page.get_by_label("Reason for rejecting").fill(reason)
        self.page.get_by_role("button", name="Reject").click()
        try:
            self.expect_status("rejected")
        except AssertionError as e:
            self.raise_if_error(f"reject recommendation {self.id}")
            raise PortalPageError(str(e)) from e


# Collects each value the traffic bar takes, however briefly: a redraw replaces the bar, so
# the observer watches the whole view.
_WATCH_TRAFFIC = """() => {
  window.__e2eTraffic = [];
  const read = () => {
    const bar = document.querySelector('[data-testid="traffic"]');
    const v = bar && Number(bar.getAttribute('aria-valuenow'));
    const seen = window.__e2eTraffic;
    if (bar && seen[seen.length - 1] !== v) seen.push(v);
  };
  read();
  new MutationObserver(read).observe(document.querySelector('#view'),
                                     {childList: true, subtree: true, attributes: true});
}"""


class RolloutPage(_View):
    """``/app/optimizations/<id>``: the live rollout, its steps, and cost before and after."""

    def __init__(self, portal: PortalPages, optimization_id: str) -> None:
        super().__init__(portal)
        self.id = optimization_id

    @property
    def traffic_bar(self) -> Locator:
        return self.page.get_by_role("progressbar", name="Traffic on the new instances")

    @property
    def status(self) -> Locator:
        return self.figure("opt-status")

    def watch_traffic(self) -> None:
        """Starts recording every traffic share the page shows (``traffic_seen``)."""
        self.page.evaluate(_WATCH_TRAFFIC)

    def traffic_seen(self) -> list[int]:
        seen: list[Any] = self.page.evaluate("window.__e2eTraffic || []")
        return [int(v) for v in seen]

    def traffic(self) -> int:
        return int(self.traffic_bar.get_attribute("aria-valuenow") or 0)

    def expect_traffic(self, pct: int, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        expect(self.traffic_bar, f"the rollout view never showed {pct}% of traffic"
               ).to_have_attribute("aria-valuenow", str(pct), timeout=timeout_s * _MS)

    def expect_status(self, status: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        expect(self.status, f"optimization {self.id} never showed status '{status}'"
               ).to_have_attribute("data-value", status, timeout=timeout_s * _MS)

    def steps(self) -> list[tuple[str, str]]:
        rows = self.page.get_by_role("table", name="Steps").locator("tbody tr")
        return [(r.get_attribute("data-step") or "", r.get_attribute("data-status") or "")
                for r in rows.all()]

    def quality(self) -> float:
        return _number(self.figure("opt-quality"), "quality score")

    def cost_before(self) -> float:
        return _number(self.figure("cost-before"), "cost before")

    def cost_after(self) -> float:
        return _number(self.figure("cost-after"), "cost after")

    def current_cost(self) -> float:
        return _number(self.figure("current-cost"), "monthly cost now")

    def predicted_savings(self) -> float:
        return _number(self.figure("predicted-savings"), "predicted monthly savings")
