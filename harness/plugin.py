"""pytest plugin (entry point ``pytest11: optiinfra_e2e``): markers, options, stack and stores.

The session's ``stack`` fixture reuses a healthy stack (e.g. from ``make start-test-env``) and
leaves it running; otherwise it starts one, and only then is it torn down at session end.
With pytest-xdist the first worker to need the stack starts it under a file lock; the
controller tears it down after every worker is done. SIGTERM unwinds like Ctrl-C, so the
teardown runs; a run killed outright is swept by the next ``up`` (owner label).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from harness.core import Stack, install_sigterm_as_interrupt, owner_label
from harness.domain import (
    Endpoints,
    aws_client,
    clickhouse_connect,
    postgres_connect,
    qdrant_connect,
    redis_connect,
    stack_config,
)

MARKERS = {
    "e2e": "end-to-end test against the running compose stack (needs Docker)",
    "slow": "takes more than 30 s",
    "integration": "crosses more than one component",
    "unit": "fast, no Docker, no network",
    "performance": "measures speed or load",
    "security": "checks authentication, isolation or secret handling",
    "requires_aws": "needs the AWS simulator",
}
_SESSION_ID = "E2E_SESSION_ID"
_SESSION_PID = "E2E_SESSION_PID"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("optiinfra-e2e", "OptiInfra E2E stack")
    group.addoption("--keep-stack", action="store_true", default=False,
                    help="do not tear down a stack this session started")
    group.addoption("--no-build", action="store_true", default=False,
                    help="start the stack from the images already built")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        # Workers inherit the environment: one session id and owner pid for all of them.
        os.environ[_SESSION_ID] = uuid.uuid4().hex[:12]
        os.environ[_SESSION_PID] = str(os.getpid())
        install_sigterm_as_interrupt()


def _owner_file(stack: Stack) -> Path:
    return stack.config.state_dir / f"{stack.project}.session"


def _lock(stack: Stack) -> FileLock:
    stack.config.state_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(stack.config.state_dir / f"{stack.project}.lock"))


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The running stack: reused when healthy, otherwise started (and later torn down)."""
    session_id = os.environ.get(_SESSION_ID, "nosession")
    st = Stack(stack_config(build=not request.config.getoption("no_build")), run_id=session_id)
    with _lock(st):
        st.check_engine()
        if st.is_running():
            print(f"\n[harness] using the running stack '{st.project}'")
        else:
            print(f"\n[harness] starting stack '{st.project}' for this session...")
            owner_pid = int(os.environ.get(_SESSION_PID, os.getpid()))
            st.up(owner=owner_label(owner_pid))
            _owner_file(st).write_text(session_id)
    yield st


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if hasattr(config, "workerinput") or config.getoption("keep_stack"):
        return
    st = Stack(stack_config())
    owner_file = _owner_file(st)
    if owner_file.exists() and owner_file.read_text() == os.environ.get(_SESSION_ID):
        owner_file.unlink()
        st.down()


@pytest.fixture(scope="session")
def endpoints(stack: Stack) -> Endpoints:
    return Endpoints.from_config(stack.config)


@pytest.fixture
def pg(endpoints: Endpoints) -> Iterator[Any]:
    """A psycopg connection inside a transaction that is rolled back after the test."""
    conn = postgres_connect(endpoints)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def redis_prefix(request: pytest.FixtureRequest) -> str:
    return f"e2e:{request.node.name[:40]}:{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def redis_client(endpoints: Endpoints, redis_prefix: str) -> Iterator[Any]:
    """A Redis client; keys under ``redis_prefix`` are deleted after the test."""
    client = redis_connect(endpoints)
    try:
        yield client
    finally:
        keys = list(client.scan_iter(match=f"{redis_prefix}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def clickhouse(endpoints: Endpoints) -> Iterator[Any]:
    client = clickhouse_connect(endpoints)
    try:
        yield client
    finally:
        client.disconnect()


@pytest.fixture
def qdrant(endpoints: Endpoints) -> Iterator[Any]:
    client = qdrant_connect(endpoints)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def ec2(endpoints: Endpoints) -> Any:
    return aws_client(endpoints, "ec2")


@pytest.fixture
def aws(endpoints: Endpoints) -> Any:
    """Factory: ``aws("cloudwatch")`` gives a boto3 client on the simulator."""
    return lambda service, **kw: aws_client(endpoints, service, **kw)
