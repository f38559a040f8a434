"""Stack lifecycle against FakeDocker: waits, diagnosis, teardown, ports, the env file."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.core import (
    EngineUnavailableError,
    PortConflictError,
    PortSpec,
    ServiceUnhealthyError,
    Stack,
    StackCommandError,
    StackConfig,
    StackStartError,
)

from .fakes import (
    LABEL_PREFIX,
    RUN,
    FakeClock,
    FakeDocker,
    container,
    docker_error,
    filter_pairs,
    resource,
)

PROJECT = "e2e-test"
DEPS = {"db": [], "app": ["db"]}  # app waits on db, as compose's depends_on says


@pytest.fixture
def fake_time() -> FakeClock:
    """The clock every Stack of a test runs on: its health polls never sleep for real, and
    time moves only by those polls (or when a test moves it)."""
    return FakeClock()


@pytest.fixture
def new_stack(tmp_path: Path, fake_time: FakeClock) -> Callable[..., tuple[Stack, list[str]]]:
    """Factory: a Stack on ``docker`` (None: the real client) and the fake clock, whose
    printed lines are collected, its state in tmp_path."""
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services: {}\n")  # must exist; FakeDocker answers `compose config`

    def new_stack(docker: FakeDocker | None, **settings: Any) -> tuple[Stack, list[str]]:
        values = {"compose_files": [compose], "project_name": PROJECT, "port_offset": 0,
                  "build": False, "state_dir": tmp_path / "state", "up_timeout_s": 3,
                  "label_prefix": LABEL_PREFIX, **settings}
        lines: list[str] = []
        stack = Stack(StackConfig.model_validate(values), docker=docker, out=lines.append,
                      run_id="run-1", clock=fake_time, sleep=fake_time.sleep)
        return stack, lines

    return new_stack


def db_port(port: int) -> list[PortSpec]:
    return [PortSpec(service="db", name="DB", container_port=5432, default_port=port)]


def said(lines: list[str], text: str) -> int:
    """How many printed lines contain ``text``."""
    return sum(text in line for line in lines)


# -- up: the happy paths -----------------------------------------------------------------------

def test_up_waits_until_every_service_is_healthy_and_prints_progress(new_stack, fake_time):
    docker = FakeDocker(services=DEPS, snapshots=[
        [],  # before `compose up`
        [container("db", health="starting"), container("app", state="created", health=None)],
        [container("db"), container("app", health="starting")],
        [container("db"), container("app")],
    ])
    stack, lines = new_stack(docker)

    status = stack.up()

    assert status.all_ready
    assert [s.name for s in status.services] == ["app", "db"]
    (up,) = docker.called("compose.up")
    assert up["detach"] is True
    assert fake_time.sleeps == [0.5, 0.5]  # three polls
    assert said(lines, "starting stack 'e2e-test' (run run-1)") == 1
    for change in ("db: starting", "app: created", "db: healthy", "app: starting",
                   "app: healthy"):
        assert said(lines, change) == 1, (change, lines)  # each change once, not each poll
    assert said(lines, "all 2 services healthy in") == 1
    assert docker.called("compose.down") == []


def test_a_long_wait_names_the_services_still_starting_every_progress_interval(new_stack,
                                                                               fake_time):
    starting = [container("db", health="starting")]
    docker = FakeDocker(services=DEPS, snapshots=[[], *[starting] * 9,
                                                  [container("db"), container("app")]])
    stack, lines = new_stack(docker, progress_interval_s=2, up_timeout_s=60)

    assert stack.up().all_ready  # 10 polls half a second apart: t=0 .. t=4.5

    waiting = [line for line in lines if "still waiting" in line]
    assert waiting == [
        "[harness]   still waiting at t+2s on 2 of 2: app (not created yet), db (starting)",
        "[harness]   still waiting at t+4s on 2 of 2: app (not created yet), db (starting)",
    ]
    assert said(lines, "db: starting") == 1  # a change is still printed once


def test_up_prints_each_steps_time(new_stack, fake_time):
    docker = FakeDocker(services=DEPS, snapshots=[
        [], [container("db", health="starting")], [container("db"), container("app")]])
    stack, lines = new_stack(docker)

    stack.up()

    assert said(lines, "build skipped (images already built)") == 1
    assert said(lines, "containers created and started in 0.0s") == 1
    assert said(lines, "all 2 services healthy in 0.5s (created 0.0s, healthy 0.5s after "
                       "that)") == 1


def test_progress_is_printed_while_compose_up_still_runs(new_stack):
    """`compose up -d` blocks while the services others depend on turn healthy: the wait
    must not be silent then either."""
    docker = FakeDocker(services=DEPS, snapshots=[
        [], [container("db", health="starting")], [container("db", health="starting")],
        [container("db"), container("app")]])
    printed_before_up_returned: list[str] = []
    stack, lines = new_stack(docker, poll_interval_s=0.01, progress_interval_s=0)

    def blocking_up(**_: Any) -> None:
        # returns once this Stack has polled the snapshots up to the healthy one
        deadline = time.monotonic() + 20
        while len(docker.snapshots) > 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        printed_before_up_returned.extend(lines)

    docker.compose.up = blocking_up

    assert stack.up().all_ready
    assert any("db: starting" in line for line in printed_before_up_returned), lines
    assert any("still waiting at t+0s on 2 of 2: app (not created yet), db (starting)" in line
               for line in printed_before_up_returned), lines


def test_an_interrupt_while_compose_up_runs_tears_down_after_it(new_stack):
    docker = FakeDocker(services=DEPS, snapshots=[[], [container("db", health="starting")]])
    stack, lines = new_stack(docker, poll_interval_s=0.01)
    polls = 0
    status = stack.status

    def interrupted_status() -> Any:
        nonlocal polls
        polls += 1
        if polls == 3:  # the first progress poll during `compose up`, as Ctrl-C would
            raise KeyboardInterrupt
        return status()

    up_done = threading.Event()

    def slow_up(**_: Any) -> None:
        time.sleep(0.2)
        docker.snapshots[-1].append(container("app", state="created", health=None))
        up_done.set()

    docker.compose.up = slow_up
    stack.status = interrupted_status  # type: ignore[method-assign]

    with pytest.raises(KeyboardInterrupt):
        stack.up()

    assert up_done.wait(5)
    assert said(lines, "start interrupted; tearing down what was started") == 1
    assert docker.containers == []  # including what compose up made after the first down


def test_up_reuses_an_already_healthy_stack_without_compose_up(new_stack):
    docker = FakeDocker(services=DEPS, snapshots=[[container("db"), container("app")]])
    stack, lines = new_stack(docker, build=True)

    assert stack.up().all_ready

    assert docker.called("compose.up") == []
    assert docker.called("compose.build") == []
    assert said(lines, "stack 'e2e-test' is already up and healthy; reusing it") == 1


def test_up_builds_first_and_prints_each_build_step(new_stack):
    docker = FakeDocker(services={"db": []}, snapshots=[[], [container("db")]], build_lines=[
        b"#1 [internal] load build definition from Dockerfile",
        b"#5 [db 1/3] FROM docker.io/library/debian:bookworm-slim",
        b"#5 DONE 0.1s",
    ])
    stack, lines = new_stack(docker, build=True)

    stack.up()

    names = [name for name, _ in docker.calls]
    assert names.index("compose.build") < names.index("compose.up")
    (build,) = docker.called("compose.build")
    assert build["stream_logs"] is True
    assert "  [build] [db 1/3] FROM docker.io/library/debian:bookworm-slim" in lines
    assert said(lines, "internal]") == 0 and said(lines, "DONE") == 0


def test_up_sweeps_stacks_of_dead_owners_first(new_stack):
    dead_owner = "pid:4242:0ther-b0"  # another boot: its process cannot be running
    docker = FakeDocker(services={"db": []}, snapshots=[
        [container("db", project="old", owner=dead_owner), container("db")],
    ], networks=[resource("old_default", project="old", owner=dead_owner)])
    stack, lines = new_stack(docker)

    stack.up()

    assert [c.name for c in docker.containers] == ["e2e-test-db-1"]
    assert docker.networks == []
    assert said(lines, f"swept 2 resources of stack 'old' left by dead owner {dead_owner}") == 1


def test_up_uses_the_first_base_image_candidate_the_engine_has(new_stack):
    docker = FakeDocker(services={"db": []}, snapshots=[[], [container("db")]],
                        images={"present:2", "present:3"})
    stack, _ = new_stack(docker, base_image_candidates=["absent:1", "present:2", "present:3"])

    stack.up()

    assert [c["x"] for c in docker.called("image.exists")] == ["absent:1", "present:2"]
    assert stack.config.base_image == "present:2"
    assert "E2E_BASE_IMAGE=present:2\n" in (stack.config.state_dir / "e2e-test.env").read_text()


def test_env_file_for_compose_has_ports_run_id_and_owner(new_stack, free_port):
    docker = FakeDocker(services={"db": []},
                        snapshots=[[], [container("db", ports={5432: free_port})]])
    stack, _ = new_stack(docker, ports=db_port(free_port), extra_env={"LC_READY_AFTER": "3"})

    stack.up(owner="pid:123:abcd1234")

    env_file = stack.config.state_dir / "e2e-test.env"
    assert env_file.read_text().splitlines() == [  # sorted KEY=VALUE lines
        f"E2E_PORT_DB={free_port}",
        "E2E_PUBLISH_HOST=127.0.0.1",
        "E2E_RUN_ID=run-1",
        "E2E_RUN_OWNER=pid:123:abcd1234",
        "LC_READY_AFTER=3",
    ]


def test_completing_a_partly_up_stack_keeps_its_run_and_owner_labels(new_stack):
    """New labels would make compose recreate the running containers (and steal the stack)."""
    existing = container("db", health="starting", owner="detached")
    existing.config.labels[RUN] = "their-run"
    docker = FakeDocker(services={"db": []}, snapshots=[[existing], [container("db")]])
    stack, _ = new_stack(docker)

    stack.up(owner="pid:123:abcd1234")

    env = (stack.config.state_dir / "e2e-test.env").read_text().splitlines()
    assert "E2E_RUN_ID=their-run" in env and "E2E_RUN_OWNER=detached" in env
    assert stack.run_id == "their-run"


def test_up_without_an_owner_labels_the_stack_detached(new_stack):
    docker = FakeDocker(services={"db": []}, snapshots=[[], [container("db")]])
    stack, _ = new_stack(docker)
    stack.up()
    assert "E2E_RUN_OWNER=detached\n" in (stack.config.state_dir / "e2e-test.env").read_text()


# -- up: failures are diagnosed, then torn down ------------------------------------------------

def unhealthy_db_docker() -> FakeDocker:
    """db turns unhealthy on the second poll; app (depends on db) is still only created."""
    return FakeDocker(services=DEPS, snapshots=[
        [],
        [container("db", health="starting"), container("app", state="created", health=None)],
        [container("db", health="unhealthy", health_output="db not ready: connection refused\n"),
         container("app", state="created", health=None)],
    ], logs={"db": "\x1b[31m2026-01-01 FATAL could not open data directory\x1b[0m\n",
             "app": "app log must not be read"})


def test_unhealthy_service_fails_fast_with_a_diagnosis_and_tears_down(new_stack, fake_time):
    docker = unhealthy_db_docker()
    stack, lines = new_stack(docker)

    with pytest.raises(ServiceUnhealthyError) as err:
        stack.up(timeout=300)

    assert fake_time.sleeps == [0.5]  # failed at the second poll, not at the deadline
    error = err.value
    assert [s.name for s in error.services] == ["db"]  # the root cause, not app waiting on it
    (db,) = error.services
    assert (db.state, db.health, db.waiting_on_it) == ("running", "unhealthy", ["app"])
    message = str(error)
    assert "stack 'e2e-test' failed to start: a service failed its healthcheck or exited" in message
    assert "- service 'db': state=running health=unhealthy" in message
    assert "services waiting on it: app" in message
    assert "db not ready: connection refused" in message  # last healthcheck output
    assert "FATAL could not open data directory" in message  # log tail
    assert "\x1b[" not in message  # colours stripped from the log
    assert "app log must not be read" not in message
    (logs,) = docker.called("compose.logs")  # only the culprit's
    assert (logs["services"], logs["tail"]) == (["db"], "25")
    assert len(docker.called("compose.down")) == 1
    assert said(lines, "start failed; tearing down what was started") == 1
    assert not (stack.config.state_dir / "e2e-test.env").exists()


def test_exited_service_fails_fast_with_its_exit_code(new_stack, fake_time):
    docker = FakeDocker(services=DEPS, snapshots=[
        [], [container("db"), container("app", state="exited", health=None, exit_code=3)]])
    stack, lines = new_stack(docker)

    with pytest.raises(ServiceUnhealthyError) as err:
        stack.up()

    assert [s.name for s in err.value.services] == ["app"]
    assert "service 'app': state=exited health=n/a" in str(err.value)
    assert said(lines, "app: exited (3)") == 1
    assert fake_time.sleeps == []


def test_keep_on_failure_leaves_the_containers(new_stack, fake_time):
    docker = unhealthy_db_docker()
    stack, lines = new_stack(docker, keep_on_failure=True)

    with pytest.raises(ServiceUnhealthyError):
        stack.up()

    assert docker.called("compose.down") == []
    assert docker.called("container.remove") == []
    assert len(docker.containers) == 2
    assert said(lines, "keeping the containers as asked (--keep-on-failure)") == 1


def test_failing_to_complete_a_detached_stack_leaves_it_to_its_owner(new_stack, fake_time):
    """A session that finds `make start-test-env`'s stack unhealthy and cannot heal it must
    not remove it: it was never this session's to remove."""
    docker = unhealthy_db_docker()
    existing = container("db", health="starting", owner="detached")
    existing.config.labels[RUN] = "their-run"
    docker.snapshots.insert(0, [existing])
    stack, lines = new_stack(docker)

    with pytest.raises(ServiceUnhealthyError):
        stack.up(owner="pid:123:abcd1234")

    assert docker.called("compose.down") == []
    assert docker.called("container.remove") == []
    assert said(lines, "left as it was for its owner") == 1


COMPOSE_GAVE_UP = ("Container e2e-test-db-1  Waiting\n"
                   "Container e2e-test-db-1  Error\n"
                   "dependency failed to start: container e2e-test-db-1 is unhealthy\n")


def compose_up_fails() -> FakeDocker:
    docker = FakeDocker(services=DEPS, snapshots=[
        [],
        [container("db", health="unhealthy", health_output="db not ready: connection refused"),
         container("app", state="created", health=None)],
    ], logs={"db": "FATAL could not open data directory\n"})
    docker.raises["compose.up"] = docker_error(COMPOSE_GAVE_UP, return_code=1)
    return docker


def test_compose_up_failure_is_diagnosed_the_same_way(new_stack):
    docker = compose_up_fails()
    stack, _ = new_stack(docker)

    with pytest.raises(ServiceUnhealthyError) as err:
        stack.up()

    message = str(err.value)
    assert ("compose up failed (dependency failed to start: container e2e-test-db-1 "
            "is unhealthy)") in message
    assert [s.name for s in err.value.services] == ["db"]
    assert "services waiting on it: app" in message
    assert "db not ready: connection refused" in message
    assert "FATAL could not open data directory" in message
    assert len(docker.called("compose.down")) == 1


def test_compose_up_failure_keeps_the_command_and_its_output(new_stack):
    stack, _ = new_stack(compose_up_fails())

    with pytest.raises(StackStartError) as err:
        stack.up()

    assert err.value.command == "docker compose up"
    assert "Container e2e-test-db-1  Error" in err.value.output


@pytest.mark.parametrize("keep_on_failure", [False, True])
def test_interrupt_during_up_still_tears_down_and_reraises(new_stack, keep_on_failure):
    docker = FakeDocker(services=DEPS, snapshots=[[], [container("db", health="starting")]])
    docker.raises["compose.up"] = KeyboardInterrupt()
    stack, lines = new_stack(docker, keep_on_failure=keep_on_failure)

    with pytest.raises(KeyboardInterrupt):
        stack.up()

    assert len(docker.called("compose.down")) == 1  # even with keep_on_failure
    assert docker.containers == []
    assert said(lines, "start interrupted; tearing down what was started") == 1


def test_build_failure_says_so_with_the_build_output_and_tears_down(new_stack):
    docker = FakeDocker(services={"db": []})
    docker.raises["compose.build"] = docker_error(
        'failed to solve: process "/bin/sh -c false" did not complete successfully',
        command=("docker", "compose", "build"))
    stack, _ = new_stack(docker, build=True)

    with pytest.raises(StackStartError) as err:
        stack.up()

    assert type(err.value) is StackStartError  # not a health diagnosis
    assert "stack 'e2e-test' failed to start: image build failed" in str(err.value)
    assert err.value.command == "docker compose build"
    assert "failed to solve" in err.value.output
    assert docker.called("compose.up") == []
    assert len(docker.called("compose.down")) == 1


def test_deadline_names_the_service_still_starting(new_stack, fake_time):
    docker = FakeDocker(services=DEPS, snapshots=[
        [], [container("db", health="starting", health_output="db warming up")]],
        logs={"db": "loading 10%\n"})
    stack, _ = new_stack(docker)

    with pytest.raises(ServiceUnhealthyError) as err:
        stack.up(timeout=0.05)
    assert fake_time.sleeps == [0.05]  # one poll, a wait to the deadline, a last poll

    message = str(err.value)
    assert "not every service was healthy within 0.05s" in message
    assert [s.name for s in err.value.services] == ["db"]  # app is missing: it waits on db
    assert "- service 'db': state=running health=starting" in message
    assert "services waiting on it: app" in message
    assert "db warming up" in message and "loading 10%" in message
    assert len(docker.called("compose.down")) == 1


def test_deadline_defaults_to_the_configured_up_timeout(new_stack, fake_time):
    docker = FakeDocker(services={"db": []},
                        snapshots=[[], [container("db", health="starting")]])
    stack, _ = new_stack(docker, up_timeout_s=2)

    with pytest.raises(ServiceUnhealthyError, match="not every service was healthy within 2s"):
        stack.up()

    assert fake_time.sleeps == [0.5, 0.5, 0.5, 0.5]


def test_health_deadline_does_not_count_the_image_build(new_stack, fake_time):
    docker = FakeDocker(services={"db": []}, snapshots=[
        [], [container("db", health="starting")], [container("db")]])
    build = docker.compose.build

    def cold_build(**kwargs: Any) -> Any:
        fake_time.now += 400  # longer than the whole timeout
        return build(**kwargs)

    docker.compose.build = cold_build
    stack, _ = new_stack(docker, build=True)

    assert stack.up(timeout=300).all_ready  # `--timeout`: "seconds to wait for all-healthy"


def test_deadline_diagnosis_never_names_no_service(new_stack, fake_time):
    starting = [container("db", health="starting")]
    docker = FakeDocker(services={"db": []},
                        snapshots=[[], starting, starting, starting, [container("db")]])
    stack, _ = new_stack(docker)

    try:
        status = stack.up(timeout=1)  # polls at t=0, 0.5, 1: db still starting
    except ServiceUnhealthyError as exc:
        assert [s.name for s in exc.services] == ["db"], str(exc)
    else:
        assert status.all_ready  # healthy just in time is fine too


def test_no_engine_is_reported_before_anything_starts(new_stack):
    docker = FakeDocker(services={"db": []})
    docker.raises["system.info"] = docker_error("Cannot connect to the Docker daemon",
                                                command=("docker", "info"))
    stack, _ = new_stack(docker)

    with pytest.raises(EngineUnavailableError, match="no Docker engine answers") as err:
        stack.up()
    assert [name for name, _ in docker.calls] == ["system.info"]
    assert str(err.value).endswith(stack.config.setup_hint)  # what to do, from the config


def test_no_docker_binary_is_an_engine_unavailable_error(new_stack, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no docker here: nothing is run
    stack, _ = new_stack(None)  # the real python-on-whales client

    with pytest.raises(EngineUnavailableError, match="no Docker engine answers"):
        stack.check_engine()


# -- up: host ports ----------------------------------------------------------------------------

def test_port_conflict_is_raised_before_compose_up(new_stack, held_port):
    docker = FakeDocker(services={"db": []})
    stack, _ = new_stack(docker, ports=db_port(held_port), build=True)

    with pytest.raises(PortConflictError) as err:
        stack.up()

    message = str(err.value)
    assert f"127.0.0.1:{held_port} (wanted by service 'db') is held by process {os.getpid()}" \
        in message
    assert "E2E_PORT_OFFSET" in message
    assert docker.called("compose.build") == []
    assert docker.called("compose.up") == []


def test_port_held_by_another_compose_project_names_its_container(new_stack, held_port):
    other = container("web", project="other", ports={80: held_port})
    docker = FakeDocker(services={"db": []}, snapshots=[[other]])
    stack, _ = new_stack(docker, ports=db_port(held_port))

    with pytest.raises(PortConflictError) as err:
        stack.up()

    assert "held by container 'other-web-1' of compose project 'other' (docker ps)" \
        in str(err.value)
    (lookup,) = [c for c in docker.called("container.list")
                 if ("publish", str(held_port)) in filter_pairs(c["filters"])]
    assert lookup


def test_ports_the_stack_itself_publishes_are_no_conflict(new_stack, held_port):
    mine = dict(ports={5432: held_port})  # e.g. a half-started stack of this project
    docker = FakeDocker(services={"db": []}, snapshots=[
        [container("db", health="starting", **mine)], [container("db", **mine)]])
    stack, _ = new_stack(docker, ports=db_port(held_port))

    assert stack.up().all_ready
    assert len(docker.called("compose.up")) == 1


def test_ports_of_services_not_in_the_compose_files_are_not_checked(new_stack, held_port):
    docker = FakeDocker(services={"db": []}, snapshots=[[], [container("db")]])
    ghost = [PortSpec(service="ghost", name="GHOST", container_port=1, default_port=held_port)]
    stack, _ = new_stack(docker, ports=ghost)

    assert stack.up().all_ready


# -- down --------------------------------------------------------------------------------------

@pytest.fixture
def leftovers() -> FakeDocker:
    """This project's container, network and volume, and another project's."""
    return FakeDocker(
        services=DEPS,
        snapshots=[[container("db"), container("db", project="other")]],
        networks=[resource("e2e-test_default"), resource("other_default", project="other")],
        volumes=[resource("e2e-test_data"), resource("other_data", project="other")],
    )


def test_down_removes_whatever_compose_left_by_label_and_the_env_file(new_stack, leftovers):
    stack, lines = new_stack(leftovers)
    env_file = stack.config.state_dir / "e2e-test.env"
    env_file.parent.mkdir(parents=True)
    env_file.write_text("E2E_RUN_ID=run-1\n")

    assert stack.down() >= 0

    (down,) = leftovers.called("compose.down")
    assert down["volumes"] is True and down["remove_orphans"] is True
    assert [c.name for c in leftovers.containers] == ["other-db-1"]
    assert [n.name for n in leftovers.networks] == ["other_default"]
    assert [v.name for v in leftovers.volumes] == ["other_data"]
    assert not env_file.exists()
    assert said(lines, "tearing down stack 'e2e-test'") == 1
    assert said(lines, "stack 'e2e-test' removed in") == 1


def test_down_goes_on_by_label_when_compose_down_fails(new_stack, leftovers):
    leftovers.raises["compose.down"] = docker_error("no such service: renamed",
                                                    command=("docker", "compose", "down"))
    stack, lines = new_stack(leftovers)
    stack.config.state_dir.mkdir(parents=True)
    (stack.config.state_dir / "e2e-test.env").write_text("E2E_RUN_ID=run-1\n")

    stack.down()

    assert [c.name for c in leftovers.containers] == ["other-db-1"]
    assert said(lines, "compose down failed (no such service: renamed); removing by label") == 1


def test_down_without_an_env_file_removes_by_label_only(new_stack, leftovers):
    stack, lines = new_stack(leftovers)  # never started from this checkout: no env file
    stack.down()
    assert leftovers.called("compose.down") == []  # compose would refuse without it
    assert [c.name for c in leftovers.containers] == ["other-db-1"]
    assert said(lines, "stack 'e2e-test' removed in") == 1


def test_down_of_a_stack_that_does_not_exist_says_so(new_stack):
    stack, lines = new_stack(FakeDocker())
    stack.down()
    assert said(lines, "stack 'e2e-test': nothing to remove") == 1
    assert said(lines, "removed in") == 0


def test_quiet_down_prints_nothing(new_stack, leftovers):
    stack, lines = new_stack(leftovers)
    stack.down(quiet=True)
    assert lines == []
    assert [c.name for c in leftovers.containers] == ["other-db-1"]


def test_running_always_tears_down_after_the_block(new_stack):
    docker = FakeDocker(services={"db": []}, snapshots=[[], [container("db")]])
    stack, _ = new_stack(docker)

    with pytest.raises(RuntimeError, match="test body failed"), stack.running(owner="pid:1:x"):
        assert docker.called("compose.down") == []
        raise RuntimeError("test body failed")

    assert len(docker.called("compose.down")) == 1


# -- queries -----------------------------------------------------------------------------------

def test_status_lists_every_compose_service_with_its_ports(new_stack):
    docker = FakeDocker(services=DEPS, snapshots=[[container("db", ports={5432: 15432})]])
    stack, _ = new_stack(docker)

    status = stack.status()

    assert status.get("db").ports == {5432: 15432}
    app = status.get("app")
    assert (app.state, app.depends_on) == ("missing", ["db"])
    assert not status.all_ready and status.any_created
    table = status.table().splitlines()
    assert table[0].split() == ["SERVICE", "STATE", "HEALTH", "PORTS", "(host->container)"]
    assert table[1].split() == ["app", "missing", "-", "-"]
    assert table[2].split() == ["db", "running", "healthy", "127.0.0.1:15432->5432"]


def test_is_running_is_false_when_docker_cannot_list_containers(new_stack):
    docker = FakeDocker(services={"db": []}, snapshots=[[container("db")]])
    stack, _ = new_stack(docker)
    assert stack.is_running()

    docker.raises["container.list"] = docker_error("permission denied",
                                                   command=("docker", "ps"))
    assert not stack.is_running()
    with pytest.raises(StackCommandError) as err:
        stack.status()
    assert "could not list the stack's containers" in str(err.value)
    assert err.value.command == "docker ps" and "permission denied" in err.value.output


def test_missing_compose_file_is_a_clear_error(new_stack, tmp_path):
    stack, _ = new_stack(FakeDocker(), compose_files=[tmp_path / "nope.yml"])
    with pytest.raises(StackCommandError, match=r"compose file .*nope.yml not found"):
        stack.status()
