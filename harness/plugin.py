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
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from harness.core import (
    OWNER_DETACHED,
    Narrative,
    Stack,
    install_sigterm_as_interrupt,
    owner_label,
    reset_narrative,
    use_narrative,
    wait_for,
)
from harness.domain import (
    DEFAULT_FLEET,
    ApiUnreachableError,
    Customer,
    Endpoints,
    EventStream,
    Fleet,
    FleetSpec,
    MetricsSummary,
    PortalClient,
    aws_client,
    clickhouse_connect,
    create_customer,
    launch_fleet,
    postgres_connect,
    qdrant_connect,
    redis_connect,
    stack_config,
    terminate_customer_instances,
)
from harness.targets import DeployedStack
from harness.targets.plugin import target_of

# The target switch (--target, the need markers, skips with reasons) comes with the harness.
pytest_plugins = ["harness.targets.plugin"]

MARKERS = {
    "e2e": "end-to-end test against the running compose stack (needs Docker)",
    "slow": "takes more than 30 s",
    "integration": "crosses more than one component",
    "unit": "fast, no Docker, no network",
    "performance": "measures speed or load",
    "security": "checks authentication, isolation or secret handling",
    "requires_aws": "needs the AWS simulator",
    "serial": "disturbs the shared stack (restarts a service): run alone, not under xdist",
    "browser": "drives the portal's web pages in Chromium (Playwright; scenarios/browser)",
}
_SESSION_ID = "E2E_SESSION_ID"
_SESSION_PID = "E2E_SESSION_PID"
_OUTERMOST = pytest.StashKey[bool]()


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
        # A session nested in another (pytester) finds them set: it must neither take them
        # over nor tear down the outer session's stack when it finishes.
        config.stash[_OUTERMOST] = _SESSION_ID not in os.environ
        os.environ.setdefault(_SESSION_ID, uuid.uuid4().hex[:12])
        os.environ.setdefault(_SESSION_PID, str(os.getpid()))
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
    target = target_of(request.config)
    if not target.uses_docker:  # url: a deployed environment, not one Docker call
        yield DeployedStack(target, stack_config())  # type: ignore[misc]
        return
    st = Stack(_target_config(request.config, build=not request.config.getoption("no_build")),
               run_id=session_id)
    with _lock(st):
        st.check_engine()
        target.prepare(st._docker, print)  # images: archive loaded, every image checked
        if st.is_running():
            print(f"\n[harness] using the running stack '{st.project}'")
        else:
            print(f"\n[harness] starting stack '{st.project}' for this session...")
            if request.config.getoption("keep_stack"):
                # Meant to outlive this session: never swept as a dead session's leftover.
                st.up(owner=OWNER_DETACHED)
            else:
                owner_pid = int(os.environ.get(_SESSION_PID, os.getpid()))
                st.up(owner=owner_label(owner_pid))
                _owner_file(st).write_text(session_id)
    yield st


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first (after pytest-randomly's shuffle, which stays in force
    within each group): under xdist a long scenario handed out last sets the wall time."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if (hasattr(config, "workerinput") or not config.stash.get(_OUTERMOST, False)
            or config.getoption("keep_stack")):
        return
    if not target_of(config).uses_docker:
        return
    st = Stack(_target_config(config))
    owner_file = _owner_file(st)
    if owner_file.exists() and owner_file.read_text() == os.environ.get(_SESSION_ID):
        owner_file.unlink()
        st.down()


def _target_config(config: pytest.Config, **overrides: object) -> Any:
    """stack_config() for the run's target (images: its compose override, nothing built)."""
    base = stack_config()
    return stack_config(None, **{**overrides, **target_of(config).stack_overrides(
        base.state_dir, base.project_name)})


@pytest.fixture(scope="session")
def endpoints(request: pytest.FixtureRequest, stack: Stack) -> Endpoints:
    target = target_of(request.config)
    return target.endpoints() if not target.uses_docker else Endpoints.from_config(stack.config)


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


# -- the narrative and the platform-facing fixtures ------------------------------------------

@pytest.fixture(autouse=True)
def narrative(request: pytest.FixtureRequest) -> Iterator[Narrative]:
    """Each test's story (``phase``/``say``); kept on the item for the reports."""
    story = Narrative()
    token = use_narrative(story)
    request.node.stash[NARRATIVE_KEY] = story
    try:
        yield story
    finally:
        reset_narrative(token)


NARRATIVE_KEY = pytest.StashKey[Narrative]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    story = item.stash.get(NARRATIVE_KEY, None)
    if story is not None and story.phases and report.when == "call":
        # item.user_properties reach the JUnit XML (it reads them from the teardown report).
        for p in story.phases:
            item.user_properties.append(
                (f"phase_{p.number}", f"{p.title}: {p.outcome} {p.duration_s:.2f}s"))
        failed = story.failed_phase
        if report.failed and failed is not None:
            report.sections.append(("failed phase", f"PHASE {failed.number}: {failed.title}\n"
                                    f"{failed.error}\n\nstory so far:\n{story.summary()}"))
    return report


@pytest.fixture(scope="session")
def portal_url(endpoints: Endpoints) -> str:
    return endpoints.portal_url


@pytest.fixture
def api_client(endpoints: Endpoints) -> Iterator[PortalClient]:
    """A portal client with the admin token (no customer token yet)."""
    client = PortalClient(endpoints.portal_url, admin_token=endpoints.admin_token)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def test_customer(api_client: PortalClient, ec2: Any) -> Iterator[Customer]:
    """A fresh customer and token; its instances are terminated after the test."""
    customer = create_customer(api_client)
    try:
        yield customer
    finally:
        customer.client.close()
        terminate_customer_instances(ec2, customer.id)


@pytest.fixture
def fleet_spec() -> FleetSpec:
    """Override in a test module to change the fleet ``test_infrastructure`` launches."""
    return DEFAULT_FLEET


@pytest.fixture
def test_infrastructure(test_customer: Customer, ec2: Any, fleet_spec: FleetSpec) -> Fleet:
    """The customer's fleet of on-demand EC2 instances in the simulator."""
    return launch_fleet(ec2, test_customer.id, fleet_spec)


@pytest.fixture
def ws_client(test_customer: Customer, endpoints: Endpoints) -> Iterator[EventStream]:
    """The customer's event stream, buffered from connection."""
    with EventStream.for_customer(endpoints.portal_url, test_customer.token) as stream:
        yield stream


@pytest.fixture
def baseline_metrics(test_customer: Customer, test_infrastructure: Fleet) -> MetricsSummary:
    """Metrics once the workload has written some for the fleet."""
    return wait_for(lambda: test_customer.client.metrics_summary(window_s=30), timeout=60,
                    interval=1, transient=(ApiUnreachableError,),
                    until=lambda s: s.latency_p95_ms is not None and s.quality_score is not None,
                    description="baseline metrics of the new fleet")


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Any:
    """The harness's ``wait_for`` (condition, timeout=, interval=, transient=)."""
    return wait_for


# -- figures: lines a test reports for the run's terminal summary ----------------------------
# A test calls ``record_figure("auth matrix: 120 probes")``; the line rides in the report's
# user_properties, so under xdist it reaches the controller, which prints every line once.

FIGURE = "e2e_figure"
_figures: list[str] = []


@pytest.fixture
def record_figure(request: pytest.FixtureRequest) -> Any:
    """``record_figure(line)``: print ``line`` in the terminal summary (section "figures")."""
    return lambda line: request.node.user_properties.append((FIGURE, str(line)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":  # the teardown report carries all of the test's properties
        _figures.extend(str(v) for k, v in report.user_properties if k == FIGURE)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    if _figures and not hasattr(config, "workerinput"):
        terminalreporter.write_sep("-", "figures")
        for line in _figures:
            terminalreporter.write_line(line)
