"""The browser lane's fixtures: Playwright driving Debian's ``chromium`` (no browser download).

Loaded by ``scenarios/browser/conftest.py``, so Playwright is needed only where the lane runs.

- ``browser`` (session): one headless Chromium per process (per xdist worker).
- ``page``: a fresh browser context and tab for the test, traced (screenshots, DOM snapshots).
- ``open_portal``: factory, ``open_portal(customer)`` -> ``PortalPages`` signed in on a new tab
  (a second customer, a second window); every tab it opens is recorded like ``page``.
- ``portal_page``: the portal on ``page``, signed in as ``test_customer``.

When a test fails (its call, or the setup of an ``e2e`` test) its failure bundle gains, per tab,
``screenshot.png``, ``page.html``, ``console.log`` and ``trace.zip`` (open it with
``playwright show-trace``), listed in the bundle's README. Settings: ``E2E_CHROMIUM`` (the
binary, default ``/usr/bin/chromium``), ``E2E_HEADED=1`` (a visible window; needs a display),
``E2E_SLOWMO_MS`` (pause between actions, for watching).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from harness.core import mask_text

from ._factories import Customer
from ._portal_pages import PortalPages

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# As root in a container or CI there is no user namespace for Chromium's sandbox; the rest
# keeps a test browser from reaching out (updates, sync, first-run pages) or needing a GPU.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
# Clicks and expects wait this long by default (Playwright's expect alone would give up after
# 5 s): a black-box call may wait on the platform's agents on a busy two-core machine.
ACTION_TIMEOUT_MS = 30_000


def chromium_path() -> str:
    return os.environ.get("E2E_CHROMIUM", DEFAULT_CHROMIUM)


def launch_options() -> dict[str, Any]:
    """Arguments of ``chromium.launch`` from the environment (fails with what to do)."""
    binary = chromium_path()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise BrowserUnavailableError(
            f"no Chromium at {binary}: run `make chromium` (installs Debian's chromium "
            f"package as root) or point E2E_CHROMIUM at a Chromium binary")
    headed = os.environ.get("E2E_HEADED", "") not in ("", "0")
    if headed and not os.environ.get("DISPLAY"):
        raise BrowserUnavailableError(
            "E2E_HEADED=1 needs a display and DISPLAY is unset: run on a desktop session, or "
            "under `xvfb-run -a make test-e2e ...`")
    args = [a for a in CHROMIUM_ARGS if not (headed and a == "--headless")]
    return {"executable_path": binary, "headless": not headed, "args": args,
            "slow_mo": float(os.environ.get("E2E_SLOWMO_MS", "0") or 0)}


class BrowserUnavailableError(RuntimeError):
    """The browser lane cannot start a browser here; the message says what to do."""


@dataclass
class Tab:
    """One browser context with its page, console and trace."""

    label: str
    context: BrowserContext
    page: Page
    console: list[str] = field(default_factory=list)
    tracing: bool = True
    started: float = field(default_factory=time.monotonic)

    def log(self, kind: str, text: str) -> None:
        self.console.append(f"{time.monotonic() - self.started:8.3f}s {kind:<8} {text}")

    def stop_tracing(self, path: Path | None = None) -> None:
        if self.tracing:
            self.tracing = False
            self.context.tracing.stop(path=path)


class BrowserRecorder:
    """The tabs one test opened: traced while they run; captured if the test fails."""

    def __init__(self, browser: Browser, title: str) -> None:
        self.browser = browser
        self.title = title
        self.tabs: list[Tab] = []
        self.secrets: list[str] = []

    def new_tab(self, label: str) -> Tab:
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.tracing.start(title=f"{self.title} [{label}]", screenshots=True,
                              snapshots=True)
        tab = Tab(label, context, context.new_page())

        def console(msg: ConsoleMessage) -> None:
            tab.log(msg.type, f"{msg.text}  ({msg.location.get('url', '')}:"
                              f"{msg.location.get('lineNumber', '')})")

        tab.page.on("console", console)
        tab.page.on("pageerror", lambda exc: tab.log("error", f"uncaught: {exc}"))
        tab.page.on("requestfailed", lambda req: tab.log(
            "network", f"{req.method} {req.url} failed: {req.failure}"))
        tab.page.on("websocket", lambda ws: tab.log("network", f"WebSocket opened {ws.url}"))
        self.tabs.append(tab)
        return tab

    def capture(self, folder: Path) -> list[tuple[str, str]]:
        """Writes each tab's screenshot, HTML, console and trace into ``folder``; returns
        (file, what) for each file written, and (piece, error) lines for pieces that failed."""
        written: list[tuple[str, str]] = []
        for n, tab in enumerate(self.tabs):
            suffix = "" if n == 0 else f"-{tab.label}"
            for name, what, write in self._pieces(tab, suffix):
                try:
                    write(folder / name)
                    written.append((name, what))
                except Exception as exc:  # noqa: BLE001 - one missing piece must not cost the others
                    written.append(("", f"{name} could not be written: {exc!r}"[:300]))
        return written

    def _pieces(self, tab: Tab, suffix: str
                ) -> list[tuple[str, str, Callable[[Path], object]]]:
        def screenshot(path: Path) -> None:
            tab.page.screenshot(path=str(path), full_page=True, timeout=10_000)

        def html(path: Path) -> None:
            path.write_text(self._mask(tab.page.content()))

        def console(path: Path) -> None:
            path.write_text(self._mask("\n".join(tab.console) + "\n"))

        return [(f"screenshot{suffix}.png", f"the {tab.label} tab when the test failed",
                 screenshot),
                (f"page{suffix}.html", f"its HTML then ({tab.page.url})", html),
                (f"console{suffix}.log", "its console, page errors, failed requests, WebSockets",
                 console),
                (f"trace{suffix}.zip", "Playwright trace: `playwright show-trace` it",
                 tab.stop_tracing)]

    def close(self) -> None:
        for tab in self.tabs:
            try:
                tab.stop_tracing()
                tab.context.close()
            except Exception:  # noqa: BLE001, S110 - a crashed browser must not fail teardown
                pass

    def _mask(self, text: str) -> str:
        return mask_text(text, self.secrets)


RECORDER = pytest.StashKey[BrowserRecorder]()


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (Debian's package) for this process."""
    try:
        options = launch_options()
    except BrowserUnavailableError as e:
        pytest.fail(f"browser lane: {e}", pytrace=False)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**options)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_recorder(browser: Browser, request: pytest.FixtureRequest
                     ) -> Iterator[BrowserRecorder]:
    recorder = BrowserRecorder(browser, request.node.nodeid)
    request.node.stash[RECORDER] = recorder
    try:
        yield recorder
    finally:
        recorder.close()


@pytest.fixture
def page(browser_recorder: BrowserRecorder) -> Page:
    """A new tab in its own browser context (no cookies or storage shared between tests)."""
    return browser_recorder.new_tab("page").page


@pytest.fixture
def open_portal(browser_recorder: BrowserRecorder, portal_url: str
                ) -> Callable[..., PortalPages]:
    """``open_portal(customer=None, label="second")``: the portal on a new tab, signed in as
    ``customer`` when one is given."""

    def open_(customer: Customer | None = None, label: str = "second") -> PortalPages:
        portal = PortalPages(browser_recorder.new_tab(label).page, portal_url)
        if customer is not None:
            browser_recorder.secrets.append(customer.token)
            portal.sign_in(customer.token)
        return portal

    return open_


@pytest.fixture
def portal_page(page: Page, portal_url: str, test_customer: Customer,
                browser_recorder: BrowserRecorder) -> PortalPages:
    """The portal on ``page``, signed in as ``test_customer`` (on the dashboard)."""
    browser_recorder.secrets.append(test_customer.token)
    portal = PortalPages(page, portal_url)
    portal.sign_in(test_customer.token)
    return portal


# -- the failure bundle gains the browser's side --------------------------------------------

@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # tryfirst: this wrapper is the outermost, so the report plugin has written the bundle
    # (its path is in the report's user_properties) and the tabs are still open.
    report = yield
    recorder = item.stash.get(RECORDER, None)
    if recorder is None or not report.failed or report.when == "teardown":
        return report
    bundle = dict(report.user_properties).get("failure_bundle")
    if not bundle:
        report.sections.append(("browser", "no failure bundle (bundles off?): the browser's "
                                "screenshot and trace were not kept"))
        return report
    try:
        add_to_bundle(Path(str(bundle)), recorder)
    except Exception as exc:  # noqa: BLE001 - reporting must never break the run
        report.sections.append(("browser", f"could not add the browser files: {exc!r}"))
    return report


def add_to_bundle(folder: Path, recorder: BrowserRecorder) -> None:
    written = recorder.capture(folder)
    lines = ["", "## Browser (Playwright, Chromium)", "",
             "Open the trace (every action, DOM snapshot, console and network call, in time "
             "order): `.venv/bin/playwright show-trace trace.zip`. Unlike the text files, the "
             "screenshot and trace are not masked: they hold the test customer's token of the "
             "throwaway e2e stack.", "", "| file | size | what |", "|---|---|---|"]
    for name, what in written:
        if name:
            size = (folder / name).stat().st_size if (folder / name).exists() else 0
            lines.append(f"| `{name}` | {size:,} B | {what} |")
        else:
            lines.append(f"| - | - | {what} |")
    readme = folder / "README.md"
    with readme.open("a") as out:
        out.write("\n".join(lines) + "\n")
