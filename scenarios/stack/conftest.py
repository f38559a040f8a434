"""The remote-engine lane (marker ``remote_engine``): a private second dockerd, the images
loaded into it, a stack and scenarios on it; about 3 min, so not part of every run. It runs
when selected (``-m remote_engine``, as `make test-remote-engine` does) or with
E2E_REMOTE_ENGINE=1 (`make nightly`); otherwise it is deselected, and pytest counts it so."""

from __future__ import annotations

import os

import pytest

MARKER = "remote_engine"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: runs the stack on a second, private Docker "
                            "engine (scenarios/stack/test_remote_engine.py; lane of its own)")


# tryfirst, and registered after the harness's plugins (so called before them): the nightly
# shard plan (--shard) must not count a lane that is deselected here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("E2E_REMOTE_ENGINE") == "1" or MARKER in (config.option.markexpr or ""):
        return
    lane = [i for i in items if i.get_closest_marker(MARKER)]
    if lane:
        config.hook.pytest_deselected(items=lane)
        items[:] = [i for i in items if not i.get_closest_marker(MARKER)]
