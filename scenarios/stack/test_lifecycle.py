"""The harness's own promises, on a real engine: it never leaves anything behind.

Each test uses its own compose project (and tiny compose files beside this one), so it runs
beside the main stack without touching it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from harness.core import (
    PortConflictError,
    PortSpec,
    ServiceUnhealthyError,
    Stack,
    StackConfig,
    owner_label,
    wait_for,
)
from harness.domain._spec import BASE_IMAGE_CANDIDATES, LABEL_PREFIX, REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.requires_docker]  # own stacks
HERE = Path(__file__).parent
OK_FILE = HERE / "lifecycle-ok.compose.yml"
NEVER_FILE = HERE / "lifecycle-never.compose.yml"
docker = DockerClient()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(compose: Path, tmp_path: Path, **kw: object) -> StackConfig:
    port = kw.pop("web_port", None) or _free_port()
    values = {
        "compose_files": [compose],
        "project_name": f"e2e-lc-{uuid.uuid4().hex[:8]}",
        "label_prefix": LABEL_PREFIX,  # the labels lifecycle-*.compose.yml put on resources
        "port_offset": 0,
        "ports": [PortSpec(service="web", name="WEB", container_port=80, default_port=port)],
        "build": False,
        "state_dir": tmp_path,
        "base_image_candidates": list(BASE_IMAGE_CANDIDATES),
        "up_timeout_s": 60,
    }
    values.update(kw)
    return StackConfig.model_validate(values)


def _resources(project: str) -> list[str]:
    label = [("label", f"com.docker.compose.project={project}")]
    return ([f"container {c.name}" for c in docker.container.list(all=True, filters=label)]
            + [f"network {n.name}" for n in docker.network.list(filters=label)]
            + [f"volume {v.name}" for v in docker.volume.list(filters=label)])


@pytest.fixture
def cleanup():
    """Removes any project a test created, even when the test fails."""
    stacks: list[Stack] = []
    yield stacks.append
    for st in stacks:
        st.down(quiet=True)


@pytest.mark.req("REQ-STACK-02")
def test_port_conflict_is_found_before_compose_starts(tmp_path, cleanup):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        st = Stack(_config(OK_FILE, tmp_path, web_port=port))
        cleanup(st)
        with pytest.raises(PortConflictError) as err:
            st.up()
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "'web'" in message
    assert f"process {os.getpid()}" in message, message
    assert "E2E_PORT_OFFSET" in message
    assert _resources(st.project) == []


@pytest.mark.req("REQ-STACK-02")
def test_port_held_by_another_stack_names_its_container(tmp_path, cleanup):
    first = Stack(_config(OK_FILE, tmp_path))
    cleanup(first)
    first.up()
    port = first.config.host_port(first.config.ports[0])
    second = Stack(_config(OK_FILE, tmp_path, web_port=port))
    cleanup(second)
    with pytest.raises(PortConflictError) as err:
        second.up()
    assert f"container '{first.project}-web-1'" in str(err.value)
    assert _resources(second.project) == []


@pytest.mark.req("REQ-STACK-03")
def test_unhealthy_service_fails_up_with_diagnosis_and_leaves_nothing(tmp_path, cleanup):
    st = Stack(_config(NEVER_FILE, tmp_path, ports=[]))
    cleanup(st)
    with pytest.raises(ServiceUnhealthyError) as err:
        st.up(timeout=60)
    message = str(err.value)
    assert [s.name for s in err.value.services] == ["db"]
    assert "db not ready: connection refused" in message  # last healthcheck output
    assert "FATAL could not open data directory" in message  # log tail
    assert "services waiting on it: app" in message
    assert _resources(st.project) == []


def test_keep_on_failure_keeps_containers_for_inspection(tmp_path, cleanup):
    st = Stack(_config(NEVER_FILE, tmp_path, ports=[], keep_on_failure=True))
    cleanup(st)
    with pytest.raises(ServiceUnhealthyError):
        st.up(timeout=60)
    assert any(r.startswith("container ") for r in _resources(st.project))
    st.down(quiet=True)
    assert _resources(st.project) == []


@pytest.mark.req("REQ-STACK-03")
def test_deadline_reports_the_service_still_starting(tmp_path, cleanup):
    st = Stack(_config(OK_FILE, tmp_path, extra_env={"LC_READY_AFTER": "300"}))
    cleanup(st)
    with pytest.raises(ServiceUnhealthyError) as err:
        st.up(timeout=4)
    assert "not every service was healthy within 4s" in str(err.value)
    assert "service 'web': state=running health=starting" in str(err.value)
    assert "web starting" in str(err.value)
    assert _resources(st.project) == []


@pytest.mark.req("REQ-STACK-04")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_up_tears_everything_down(tmp_path, cleanup, signum):
    config = _config(OK_FILE, tmp_path, extra_env={"LC_READY_AFTER": "300"})
    cleanup(Stack(config))
    driver = ("import json, sys\nfrom harness.core import Stack, StackConfig\n"
              "Stack(StackConfig.model_validate(json.loads(sys.argv[1]))).up()\n")
    proc = subprocess.Popen([sys.executable, "-c", driver, json.dumps(config.model_dump(
        mode="json"))], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        wait_for(lambda: any(r.startswith("container ") for r in _resources(config.project_name)),
                 timeout=60, interval=0.2, description="the stack's container to exist")
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0, out
    assert "tearing down" in out, out
    assert _resources(config.project_name) == [], out


@pytest.mark.req("REQ-STACK-04")
def test_next_up_sweeps_stack_of_a_killed_run(tmp_path, cleanup):
    # The owner lives while the stack starts (a dead owner's stack may be swept by any
    # concurrent `up`, e.g. another xdist worker's), then is killed outright.
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    orphan = Stack(_config(OK_FILE, tmp_path))
    cleanup(orphan)
    try:
        orphan.up(owner=owner_label(owner.pid))
        assert _resources(orphan.project)
    finally:
        owner.kill()
        owner.wait()
    dead_pid = owner.pid

    lines: list[str] = []
    other = Stack(_config(OK_FILE, tmp_path), out=lines.append)
    cleanup(other)
    swept = other.sweep_orphans()
    assert _resources(orphan.project) == []
    # Under xdist another worker's `up` may have swept it first; otherwise this sweep did.
    if orphan.project in swept:
        assert any(f"dead owner pid:{dead_pid}:" in line for line in lines), lines


@pytest.mark.req("REQ-STACK-01")
def test_detached_stack_is_reused_not_swept(tmp_path, cleanup):
    st = Stack(_config(OK_FILE, tmp_path))
    cleanup(st)
    st.up()  # owner=detached, as `make start-test-env` does
    assert st.project not in Stack(_config(OK_FILE, tmp_path)).sweep_orphans()
    lines: list[str] = []
    again = Stack(st.config, out=lines.append)
    status = again.up()
    assert status.all_ready
    assert any("already up and healthy; reusing it" in line for line in lines)
