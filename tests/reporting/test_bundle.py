"""Failure bundles, end to end through pytest (pytester) with fake stack, clients and stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reporting.conftest import RUN_ID
from tests.reporting.fakes import ADMIN_TOKEN, CONFTEST, CUSTOMER_TOKEN

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-01")]

FAILING_SCENARIO = """
    import pytest
    from harness import phase, say

    pytestmark = pytest.mark.e2e

    def test_spot_saves(stack, api_client, test_customer, ws_client):
        with phase(1, "Recording initial state"):
            say("Initial monthly cost: $9,800")
        with phase(2, "Validating cost savings"):
            new_cost = 9800.0
            assert new_cost < 9800.0 * 0.7, f"cost did not drop: {new_cost}"

    def test_passes(stack):
        with phase(1, "Only phase"):
            pass
"""
BUNDLE = "test_scenario.py__test_spot_saves"


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def failed_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("E2E_ADMIN_TOKEN", ADMIN_TOKEN)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenario=FAILING_SCENARIO)
    return pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider",
                              "--junitxml=junit.xml")


def test_failing_test_leaves_a_bundle_with_every_piece(failed_run, run_dir):
    failed_run.assert_outcomes(passed=1, failed=1)
    bundle = run_dir / BUNDLE
    files = sorted(str(p.relative_to(bundle)) for p in bundle.rglob("*") if p.is_file())
    assert files == [
        "README.md", "captured.txt", "context.json", "error.txt",
        "http_exchanges.json", "http_exchanges.txt",
        "logs/portal.log", "logs/postgres.log",
        "snapshots/clickhouse.json", "snapshots/postgres.json", "snapshots/qdrant.json",
        "snapshots/redis.json", "snapshots/simulator.json",
        "status.json", "status.txt", "story.md", "ws_events.json", "ws_timeline.txt",
    ]
    # only the failing test has a bundle
    assert [p.name for p in run_dir.iterdir() if p.is_dir()] == [BUNDLE]


def test_bundle_names_the_failed_phase_and_why(failed_run, run_dir):
    bundle = run_dir / BUNDLE
    readme = (bundle / "README.md").read_text()
    assert "**FAILED in PHASE 2: Validating cost savings: AssertionError: cost did not drop: " \
           "9800.0**" in readme
    story = (bundle / "story.md").read_text()
    assert "**FAILED in PHASE 2: Validating cost savings**" in story
    assert "| 1 | Recording initial state | passed |" in story
    assert "| 2 | Validating cost savings | failed |" in story
    assert "Initial monthly cost: $9,800" in story
    assert "cost did not drop" in (bundle / "error.txt").read_text()
    # the index lists every file with its size, the story first
    assert readme.index("[story.md]") < readme.index("[error.txt]") < readme.index("[logs/")


def test_bundle_holds_logs_status_exchanges_events_and_snapshots(failed_run, run_dir):
    bundle = run_dir / BUNDLE
    log = (bundle / "logs/portal.log").read_text()
    assert "portal GET /ws/events" in log
    assert "after the test's window" not in log  # lines docker stamped later are cut
    status = (bundle / "status.txt").read_text()
    assert "portal" in status and "healthy" in status and "accepting connections" in status
    exchanges = json.loads((bundle / "http_exchanges.json").read_text())
    assert [(x["method"], x["status"]) for x in exchanges] == [("POST", 201), ("GET", 200)]
    assert "POST http://127.0.0.1:3001/api/v1/customers -> 201" in \
        (bundle / "http_exchanges.txt").read_text()
    assert "recommendation.created" in (bundle / "ws_timeline.txt").read_text()
    pg = json.loads((bundle / "snapshots/postgres.json").read_text())
    assert pg["data"]["tables"]["recommendations"]["rows"] == [
        {"customer_id": "cust-42", "id": "rec-1", "status": "validated"}]
    ec2 = json.loads((bundle / "snapshots/simulator.json").read_text())
    assert {(i["instance_id"], i["lifecycle"]) for i in ec2["data"]["instances"]} == {
        ("i-1", "on-demand"), ("i-2", "spot")}
    context = json.loads((bundle / "context.json").read_text())
    assert context["nodeid"] == "test_scenario.py::test_spot_saves"
    assert context["window"]["start"] < context["window"]["end"]


@pytest.mark.req("REQ-REPORT-02")
def test_no_secret_anywhere_in_the_bundle(failed_run, run_dir):
    text = all_text(run_dir)
    assert "cost did not drop" in text  # the grep sees the bundle
    assert CUSTOMER_TOKEN not in text
    assert ADMIN_TOKEN not in text
    assert "token=***" in (run_dir / BUNDLE / "logs/portal.log").read_text()
    assert "Bearer ***" in (run_dir / BUNDLE / "logs/portal.log").read_text()
    context = json.loads((run_dir / BUNDLE / "context.json").read_text())
    assert context["environment"]["E2E_ADMIN_TOKEN"] == "***"


def test_report_carries_the_bundle(failed_run, run_dir, pytester):
    failed_run.stdout.fnmatch_lines([
        "*- failure bundle -*",
        f"*{RUN_ID}/{BUNDLE}/",
        "*FAILED in PHASE 2: Validating cost savings*",
        f"[[]reports] failure bundle of test_scenario.py::test_spot_saves: *{BUNDLE}",
    ])
    junit = (pytester.path / "junit.xml").read_text()
    assert f'name="failure_bundle" value="{run_dir / BUNDLE}"' in junit
    assert CUSTOMER_TOKEN not in failed_run.stdout.str()


def test_no_bundle_option_and_environment(pytester, run_dir, monkeypatch):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenario=FAILING_SCENARIO)
    # The option parses when the plugin loads before the command line is read (-p).
    result = pytester.runpytest("-p", "no:randomly",
                                "--no-bundle")
    result.assert_outcomes(passed=1, failed=1)
    assert not (run_dir / BUNDLE).exists()
    assert (run_dir / "summary.md").exists()
    monkeypatch.setenv("E2E_NO_BUNDLE", "1")
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1, failed=1)
    assert not (run_dir / BUNDLE).exists()


def test_artifacts_dir_option(pytester, tmp_path):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenario=FAILING_SCENARIO)
    out = tmp_path / "reports"
    result = pytester.runpytest("-p", "no:randomly",
                                f"--artifacts-dir={out}")
    result.assert_outcomes(passed=1, failed=1)
    assert (out / RUN_ID / BUNDLE / "README.md").exists()
    assert (out / "latest" / "summary.md").exists()


def test_failed_stack_start_puts_the_diagnosis_in_bundle_and_terminal(pytester, run_dir):
    pytester.makeconftest("""
        import pytest
        from harness.core import ServiceUnhealthyError, UnhealthyService

        @pytest.fixture(scope="session")
        def stack():
            raise ServiceUnhealthyError(
                "a service failed its healthcheck or exited", project="e2e-fake",
                elapsed_s=12.5, services=[UnhealthyService(
                    name="postgres", state="running", health="unhealthy",
                    last_health_output="pg_isready: no response",
                    log_tail="FATAL: could not create shared memory segment",
                    waiting_on_it=["orchestrator", "portal"])])
    """)
    pytester.makepyfile(test_up="""
        import pytest

        @pytest.mark.e2e
        def test_needs_the_stack(stack):
            pass

        def test_unit_fixture_error(missing_fixture_xyz):
            pass
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=2)
    bundle = run_dir / "test_up.py__test_needs_the_stack"
    startup = (bundle / "startup.md").read_text()
    assert "| postgres | running | unhealthy | orchestrator, portal |" in startup
    assert "pg_isready: no response" in startup
    assert "FATAL: could not create shared memory segment" in \
        (bundle / "logs/postgres.log").read_text()
    assert "ERROR in setup: the stack 'e2e-fake' did not start (postgres)" in \
        (bundle / "README.md").read_text()
    result.stdout.fnmatch_lines(["*- startup diagnosis -*",
                                 "*- service 'postgres': state=running health=unhealthy",
                                 "*services waiting on it: orchestrator, portal"])
    # a setup error of a test that is not e2e gets no bundle
    assert not (run_dir / "test_up.py__test_unit_fixture_error").exists()


def test_a_piece_that_cannot_be_gathered_is_noted_not_fatal(pytester, run_dir):
    pytester.makeconftest(CONFTEST + """

class BrokenStack(FakeStack):
    def status(self):
        raise RuntimeError("docker went away")

@pytest.fixture
def stack():
    return BrokenStack()
""")
    pytester.makepyfile(test_scenario=FAILING_SCENARIO)
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1, failed=1)
    bundle = run_dir / BUNDLE
    assert "compose ps: RuntimeError: docker went away" in \
        (bundle / "bundle_errors.txt").read_text()
    assert (bundle / "logs/portal.log").exists()  # fell back to the service list
    assert (bundle / "snapshots/postgres.json").exists()
    assert "Not gathered:" in (bundle / "README.md").read_text()
