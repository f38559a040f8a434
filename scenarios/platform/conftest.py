"""The platform's contract tests use plain HTTP (no harness client); the harness still owns
the stack: every test here needs it up, and the URLs follow the stack's port settings."""

from __future__ import annotations

import os

import pytest

from harness.domain import Endpoints, stack_config

# Module-level: _platform_journey reads these when it is imported, at collection time.
_ep = Endpoints.from_config(stack_config())
os.environ.setdefault("E2E_PORTAL_URL", _ep.portal_url)
os.environ.setdefault("E2E_AWS_URL", _ep.aws_url)
os.environ.setdefault("E2E_QDRANT_URL", _ep.qdrant_url)


@pytest.fixture(autouse=True)
def _stack_is_up(stack):
    return stack
