"""`python -m harness ...`: argument parsing, exit codes, and errors on stderr."""

from __future__ import annotations

import os
from typing import Any

import pytest

from harness import cli
from harness.core import (
    EngineUnavailableError,
    PortClaim,
    PortConflictError,
    ServiceStatus,
    ServiceUnhealthyError,
    Stack,
    StackConfig,
    StackStatus,
    UnhealthyService,
)

from .fakes import LABEL_PREFIX, FakeDocker, container, resource


class FakeStack:
    """Stands in for harness.core.Stack in the CLI; remembers what it was asked."""

    instances: list[FakeStack] = []
    services: list[ServiceStatus] = []
    engine_error: BaseException | None = None
    up_error: BaseException | None = None

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.project = config.project_name
        self.calls: list[tuple[str, dict[str, Any]]] = []
        FakeStack.instances.append(self)

    def check_engine(self) -> None:
        self.calls.append(("check_engine", {}))
        if FakeStack.engine_error is not None:
            raise FakeStack.engine_error

    def status(self) -> StackStatus:
        return StackStatus(project=self.project, services=FakeStack.services)

    def up(self, *, timeout: float | None = None) -> StackStatus:
        self.calls.append(("up", {"timeout": timeout}))
        if FakeStack.up_error is not None:
            raise FakeStack.up_error
        return self.status()

    def down(self) -> None:
        self.calls.append(("down", {}))

    def logs(self, service: str | None, *, since: str | None, tail: int | None) -> str:
        self.calls.append(("logs", {"service": service, "since": since, "tail": tail}))
        return "db | ready\n"

    def sweep_orphans(self) -> list[str]:
        return ["old-a", "old-b"]


@pytest.fixture(autouse=True)
def fake_stack(monkeypatch: pytest.MonkeyPatch) -> type[FakeStack]:
    for name in list(os.environ):
        if name.startswith("E2E_") and name not in ("E2E_SESSION_ID", "E2E_SESSION_PID"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "Stack", FakeStack)
    monkeypatch.setattr(FakeStack, "instances", [])
    monkeypatch.setattr(FakeStack, "services", [ServiceStatus(name="db"),
                                                ServiceStatus(name="app")])
    monkeypatch.setattr(FakeStack, "engine_error", None)
    monkeypatch.setattr(FakeStack, "up_error", None)
    return FakeStack


def the_stack() -> FakeStack:
    (stack,) = FakeStack.instances
    return stack


@pytest.mark.parametrize("argv", [["launch"], [], ["status", "--bogus"]],
                         ids=["unknown-command", "no-command", "unknown-option"])
def test_bad_arguments_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "usage: python -m harness" in capsys.readouterr().err
    assert FakeStack.instances == []


def test_status_prints_the_table_and_exits_1_when_nothing_runs(capsys):
    assert cli.main(["status"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split()[:3] == ["SERVICE", "STATE", "HEALTH"]
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["db", "missing"],
                                                                  ["app", "missing"]]
    assert "stack 'optiinfra-e2e' is not running" in err


def test_status_exits_0_when_every_service_is_healthy(fake_stack, capsys):
    fake_stack.services = [ServiceStatus(name="db", state="running", health="healthy",
                                         ports={5432: 5433})]
    assert cli.main(["status"]) == 0
    out, err = capsys.readouterr()
    assert "127.0.0.1:5433->5432" in out
    assert err == ""


def test_harness_error_becomes_one_line_on_stderr_and_exit_1(fake_stack, capsys):
    fake_stack.engine_error = EngineUnavailableError("no Docker engine answers")
    assert cli.main(["status"]) == 1
    out, err = capsys.readouterr()
    assert err == "error: no Docker engine answers\n"
    assert out == ""


def test_bad_settings_are_a_harness_error_too(monkeypatch, capsys):
    monkeypatch.setenv("E2E_PORT_OFFSET", "lots")
    assert cli.main(["down"]) == 1
    assert capsys.readouterr().err.startswith("error: bad number in the environment")


def test_interrupt_exits_130(fake_stack, capsys):
    fake_stack.engine_error = KeyboardInterrupt()
    assert cli.main(["down"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_up_options_reach_the_config_and_the_call(capsys):
    assert cli.main(["up", "--no-build", "--keep-on-failure", "--timeout", "42"]) == 0
    stack = the_stack()
    assert stack.config.build is False and stack.config.keep_on_failure is True
    assert stack.calls == [("up", {"timeout": 42.0})]
    assert "SERVICE" in capsys.readouterr().out


def test_up_builds_and_tears_down_on_failure_by_default(capsys):
    assert cli.main(["up"]) == 0
    stack = the_stack()
    assert stack.config.build is True and stack.config.keep_on_failure is False
    assert stack.calls == [("up", {"timeout": None})]


def test_down_checks_the_engine_then_tears_down():
    assert cli.main(["down"]) == 0
    assert [name for name, _ in the_stack().calls] == ["check_engine", "down"]


def test_logs_passes_service_since_and_tail(capsys):
    assert cli.main(["logs", "db", "--since", "10m", "--tail", "5"]) == 0
    assert the_stack().calls[-1] == ("logs", {"service": "db", "since": "10m", "tail": 5})
    assert capsys.readouterr().out == "db | ready\n"


def test_sweep_names_the_stacks_it_swept(capsys):
    assert cli.main(["sweep"]) == 0
    assert capsys.readouterr().out == "swept 2 stack(s): old-a, old-b\n"


def test_failed_up_leaves_a_startup_bundle_and_says_where(fake_stack, tmp_path, monkeypatch,
                                                          capsys):
    monkeypatch.setenv("E2E_ARTIFACTS_DIR", str(tmp_path))
    monkeypatch.setenv("E2E_ADMIN_TOKEN", "s3cret-admin")
    fake_stack.up_error = ServiceUnhealthyError(
        "a service failed its healthcheck", project="optiinfra-e2e", elapsed_s=12.5,
        services=[UnhealthyService("postgres", "running", "unhealthy",
                                   last_health_output="pg_isready: no response",
                                   log_tail="FATAL: bad config (token s3cret-admin)",
                                   waiting_on_it=["orchestrator", "portal"])])
    assert cli.main(["up"]) == 1
    err = capsys.readouterr().err
    (bundle,) = [p for p in tmp_path.glob("*/*") if p.is_dir()]
    assert f"startup diagnosis written to {bundle}/" in err
    assert "error: stack 'optiinfra-e2e' failed to start" in err
    startup = (bundle / "startup.md").read_text()
    assert "| postgres | running | unhealthy | orchestrator, portal |" in startup
    assert "pg_isready: no response" in startup
    assert "s3cret-admin" not in startup + (bundle / "logs" / "postgres.log").read_text()
    assert "startup.md" in (bundle / "README.md").read_text()


def test_port_conflict_on_up_is_bundled_too(fake_stack, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("E2E_ARTIFACTS_DIR", str(tmp_path))
    fake_stack.up_error = PortConflictError([PortClaim(5433, "postgres", "process 77 (nc)")])
    assert cli.main(["up"]) == 1
    (startup,) = tmp_path.glob("*/*/startup.md")
    assert "| 5433 | postgres | process 77 (nc) |" in startup.read_text()
    assert "E2E_PORT_OFFSET" in capsys.readouterr().err


def test_other_commands_write_no_bundle(fake_stack, tmp_path, monkeypatch):
    monkeypatch.setenv("E2E_ARTIFACTS_DIR", str(tmp_path))
    fake_stack.engine_error = EngineUnavailableError("no Docker engine answers")
    assert cli.main(["down"]) == 1
    assert list(tmp_path.iterdir()) == []


# -- leftovers: the check behind scripts/check-leftovers.sh, on the real Stack -----------------

def leftovers_cli(monkeypatch: pytest.MonkeyPatch, docker: FakeDocker) -> None:
    """`python -m harness leftovers` on the real Stack over ``docker``, with the test labels."""
    def real_stack(config: StackConfig) -> Stack:
        return Stack(config.model_copy(update={"label_prefix": LABEL_PREFIX}), docker=docker)

    monkeypatch.setattr(cli, "Stack", real_stack)


def test_leftovers_lists_what_a_run_left_behind_and_exits_1(monkeypatch, capsys):
    dead = "pid:4242:0ther-b0"
    leftovers_cli(monkeypatch, FakeDocker(
        snapshots=[[container("db", project="left", owner=dead),
                    container("db", project="kept", owner="detached")]],
        networks=[resource("left_default", project="left", owner=dead)],
        volumes=[resource("kept_data", project="kept", owner="detached")]))

    assert cli.main(["leftovers"]) == 1

    err = capsys.readouterr().err.splitlines()
    assert err == ["[leftovers] ERROR: harness resources left behind:",
                   f"  {dead} container left-db-1",
                   f"  {dead} network left_default",
                   "[leftovers] remove them with: make stop-test-env (or python -m harness sweep)"]


def test_leftovers_is_content_with_a_stack_left_running_on_purpose(monkeypatch, capsys):
    leftovers_cli(monkeypatch, FakeDocker(
        snapshots=[[container("db", project="kept", owner="detached")]]))

    assert cli.main(["leftovers"]) == 0

    assert capsys.readouterr().out == (
        f"[leftovers] none: no container, network or volume labelled {LABEL_PREFIX}.harness "
        "is left (stacks left running on purpose aside)\n")
