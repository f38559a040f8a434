"""Fixtures for the reporting tests: pytester, and a fixed run id for in-process runs."""

from __future__ import annotations

from pathlib import Path

import pytest

# Imported here, before any in-process pytester run: such a run drops the modules it imported
# on the way out, and qdrant_client's native parts cannot load twice in one process.
import qdrant_client.models  # noqa: F401

from harness.reporting import ARTIFACTS_ENV, KEEP_RUNS_ENV, NO_BUNDLE_ENV, RUN_ENV, STAMP_ENV

STAMP = "20260101T000000Z"
SESSION = "sess-test"
RUN_ID = f"{STAMP}-{SESSION}"


def pytest_configure(config: pytest.Config) -> None:
    # Same as `pytest_plugins = ["pytester"]`, which pytest only accepts in the rootdir's
    # conftest: under `pytest` (testpaths) a conftest down here is loaded too late for it.
    config.pluginmanager.import_plugin("pytester")


@pytest.fixture(autouse=True)
def fixed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process pytest runs inherit os.environ: give them a known run id and no overrides
    (monkeypatch puts this session's values back afterwards)."""
    monkeypatch.setenv("E2E_SESSION_ID", SESSION)
    monkeypatch.setenv("E2E_SESSION_PID", "1")
    monkeypatch.setenv(STAMP_ENV, STAMP)
    monkeypatch.delenv(ARTIFACTS_ENV, raising=False)
    monkeypatch.delenv(NO_BUNDLE_ENV, raising=False)
    monkeypatch.delenv(KEEP_RUNS_ENV, raising=False)
    monkeypatch.delenv(RUN_ENV, raising=False)


@pytest.fixture
def run_dir(pytester: pytest.Pytester) -> Path:
    """Where an in-process run in ``pytester`` writes its reports."""
    return pytester.path / "artifacts" / RUN_ID
