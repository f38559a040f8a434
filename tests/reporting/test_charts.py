"""report.html: the history drawn as inline SVG in one self-contained file, checked in a real
headless Chromium (Debian's package, installed by this test's setup when missing)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.reporting import PhaseTiming, TestRecord
from harness.reporting._charts import render_report_html, write_report_html
from harness.reporting._history import group_runs, history_records

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-03")]

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")


def runs(n: int = 6):
    history = []
    for i in range(n):
        spot = "flaky" if i == 2 else "failed" if i == 4 else "passed"
        history += history_records(f"2026010{i}T000000Z-run{i}", [
            TestRecord("scenarios/test_spot.py::test_spot", spot, duration_s=40 + i, phases=[
                PhaseTiming(1, "Setup", "passed", 3.0 + i),
                PhaseTiming(2, "Rollout", "failed" if spot == "failed" else "passed", 30.0)]),
            TestRecord("scenarios/test_cost.py::test_cost", "passed", duration_s=10.0,
                       phases=[PhaseTiming(1, "Cost", "passed", 9.0)]),
            TestRecord("scenarios/test_<b>x</b>.py::test_odd", "skipped", duration_s=0.1),
        ], at=f"2026-01-0{i + 1}T00:00:00+00:00")
    return group_runs(history)


def test_the_report_holds_three_charts_and_escapes_names():
    html = render_report_html(runs())
    assert html.count("<svg") == 3
    assert 'id="outcome-timeline"' in html and 'id="duration-trend"' in html
    assert 'id="phase-timeline"' in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in html  # self-contained, nothing to run or fetch


def test_a_report_with_no_history_says_so():
    assert "No run has written history yet" in render_report_html([])


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed when missing, as `make chromium` does (like the engine)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        done = subprocess.run(["bash", str(ROOT / "scripts" / "ensure-chromium.sh")],
                              capture_output=True, text=True, timeout=1200, check=False)
        if done.returncode != 0:
            pytest.fail(f"no Chromium at {CHROMIUM} and scripts/ensure-chromium.sh could not "
                        f"install it (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return CHROMIUM


def test_the_charts_render_in_chromium_without_a_console_error(chromium, tmp_path):
    from playwright.sync_api import sync_playwright

    report = write_report_html(tmp_path / "report.html", runs())
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(report.as_uri())
            cells = page.locator("#outcome-timeline rect.cell")
            assert cells.count() == 3 * 6  # 3 scenarios x 6 runs, each ran every time
            assert page.locator("#outcome-timeline rect.flaky").count() == 1
            assert page.locator("#outcome-timeline rect.failed").count() == 1
            assert page.locator("#duration-trend polyline.trend").count() == 3
            assert page.locator("#phase-timeline rect.phase").count() == 3  # newest run
            for chart in ("#outcome-timeline", "#duration-trend", "#phase-timeline"):
                box = page.locator(chart).bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 50, chart
        finally:
            browser.close()
    assert problems == []
