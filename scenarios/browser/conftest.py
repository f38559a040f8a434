"""The browser lane: Playwright on Debian's chromium (fixtures in harness.domain._browser).

Imported here rather than in the harness plugin, so only this lane needs Playwright and a
browser. Its tests carry the ``browser`` marker.
"""

from __future__ import annotations

from harness.domain._browser import (  # noqa: F401 - fixtures and the bundle hook, by import
    browser,
    browser_recorder,
    open_portal,
    page,
    portal_page,
    pytest_runtest_makereport,
)

