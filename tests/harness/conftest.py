"""Fixtures for the harness's own unit tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Same as `pytest_plugins = ["pytester"]`, which pytest only accepts in the rootdir's
    # conftest: under `pytest` (testpaths) a conftest down here is loaded too late for it.
    config.pluginmanager.import_plugin("pytester")


@pytest.fixture
def held_port() -> Iterator[int]:
    """A host port this very process listens on (127.0.0.1, ephemeral)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
