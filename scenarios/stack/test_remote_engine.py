"""The stack on a Docker engine other than the local one (DOCKER_HOST=tcp://...).

A second, private dockerd (scripts/private-engine.sh: its own data root, exec root, pid file,
address pool, no iptables rules) listens on 127.0.0.2 (still this machine: all of 127/8 is
loopback on Linux). Its published ports answer on 127.0.0.2 and nothing answers on 127.0.0.1,
so a client that still used 127.0.0.1 fails: the scenarios that run against it prove the
harness derives the host from DOCKER_HOST for the typed client, the WebSocket and every store.
The images come from the main engine (docker save | docker load). Whatever happens, the
private engine is stopped and its data root deleted.

Lane: marker ``remote_engine``; run by ``make test-remote-engine`` and ``make nightly``, not
by ``make test`` (it adds about 3 min; README: Remote engine).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from harness.core import phase, wait_for
from harness.domain._spec import LABEL_PREFIX, REPO_ROOT, stack_config

pytestmark = [pytest.mark.e2e, pytest.mark.requires_docker, pytest.mark.serial,
              pytest.mark.slow, pytest.mark.remote_engine]

ENGINE_ADDR = os.environ.get("E2E_REMOTE_ENGINE_ADDR", "127.0.0.2:23750")
ENGINE_HOST = ENGINE_ADDR.split(":")[0]
PROJECT = os.environ.get("E2E_REMOTE_PROJECT", "optiinfra-e2e-remote")
OFFSET = os.environ.get("E2E_REMOTE_PORT_OFFSET", "600")
SCENARIOS = ["scenarios/stack/test_datastores.py", "scenarios/test_typed_client.py"]
PRIVATE_ENGINE = REPO_ROOT / "scripts" / "private-engine.sh"
# What the nested runs must not inherit: the outer session's identity and stack settings.
_OUTER = ("E2E_SESSION_ID", "E2E_SESSION_PID", "E2E_RUN_ID", "E2E_PROJECT", "E2E_PORT_OFFSET",
          "DOCKER_HOST", "DOCKER_CONTEXT", "E2E_HOST", "E2E_PUBLISH_HOST", "PYTEST_ADDOPTS",
          "PYTEST_XDIST_WORKER", "E2E_TARGET")


def _run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 600,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and done.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` exited {done.returncode}\n--- stdout (tail)\n"
                    f"{done.stdout[-3000:]}\n--- stderr (tail)\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("a private dockerd needs root")
    state = tmp_path_factory.mktemp("remote-engine") / "engine"
    try:
        url = _run(["bash", str(PRIVATE_ENGINE), "start", str(state), ENGINE_ADDR],
                   timeout=120).stdout.strip()
        yield url
    finally:
        # Also when start failed half-way: stop whatever runs and delete the data root.
        _run(["bash", str(PRIVATE_ENGINE), "stop", str(state)], timeout=120, check=False)
        assert not state.exists(), f"the private engine's state {state} was not deleted"


@pytest.fixture(scope="module")
def remote_env(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OUTER}
    env.update(DOCKER_HOST=engine_url, E2E_PROJECT=PROJECT, E2E_PORT_OFFSET=OFFSET,
               E2E_ARTIFACTS_DIR=str(tmp_path_factory.mktemp("remote-artifacts")))
    return env


def _images() -> list[str]:
    cfg = stack_config(environ={})
    compose = DockerClient(compose_files=[str(p) for p in cfg.compose_files])
    services = compose.compose.config(return_json=True).get("services") or {}
    return sorted({svc["image"] for svc in services.values() if svc.get("image")})


def _answers(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def _harness(env: dict[str, str], *args: str, check: bool = True,
             ) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "harness", *args], env=env, check=check, timeout=600)


@pytest.mark.req("REQ-STACK-06")
def test_a_scenario_runs_on_a_remote_engine(remote_env: dict[str, str], tmp_path: Path
                                            ) -> None:
    main = DockerClient()  # the machine's own engine (the outer environment's)
    remote = DockerClient(host=remote_env["DOCKER_HOST"])
    label = [("label", f"com.docker.compose.project={PROJECT}")]

    with phase(1, "Load the built images into the private engine"):
        images = _images()
        assert images, "docker-compose.e2e.yml names no image"
        archive = tmp_path / "images.tar"
        main.image.save(images, output=archive)
        remote.image.load(archive, quiet=True)
        archive.unlink()
        assert all(remote.image.exists(i) for i in images), remote.image.list()

    try:
        with phase(2, "Start the stack through the harness on that engine"):
            up = _harness(remote_env, "up", "--no-build")
            assert f"{ENGINE_HOST}:" in up.stdout, up.stdout  # the status table's host
            on_remote = remote.container.list(filters=label)
            assert len(on_remote) >= 10, [c.name for c in on_remote]
            assert main.container.list(all=True, filters=label) == []
            portal = stack_config(environ=remote_env).port_for("portal", 3000)
            assert _answers(ENGINE_HOST, portal)
            assert not _answers("127.0.0.1", portal), "the portal answers on 127.0.0.1 too: " \
                "the test could not tell which host the clients use"

        with phase(3, "Run scenarios against it: typed client, WebSocket, stores"):
            run = _run([sys.executable, "-m", "pytest", *SCENARIOS, "--no-build",
                        "--keep-stack", "-p", "no:randomly", "-p", "no:xdist", "-q"],
                       env=remote_env, timeout=900)
            assert " passed" in run.stdout and " failed" not in run.stdout, run.stdout[-2000:]

        with phase(4, "The port check and the leftovers check ask that engine"):
            # A second stack at the same ports: the holder is named from the remote engine's
            # containers (the main engine has none there; this machine would see a proxy).
            clash = _harness({**remote_env, "E2E_PROJECT": f"{PROJECT}-clash"}, "up",
                             "--no-build", check=False)
            assert clash.returncode == 1, clash.stderr[-2000:]
            assert f"{ENGINE_HOST}:{portal} (wanted by service 'portal') is held by container " \
                f"'{PROJECT}-portal-1' of compose project '{PROJECT}'" in clash.stderr, \
                clash.stderr[-2000:]
            # A resource of a run that is not detached, on the remote engine only: the check
            # must report it (the running stack itself is detached and does not count).
            probe = f"{PROJECT}-leftover-probe"
            remote.volume.create(probe, labels={f"{LABEL_PREFIX}.harness": "1",
                                                f"{LABEL_PREFIX}.owner": "pid:1:probe"})
            try:
                left = _harness(remote_env, "leftovers", check=False)
                assert left.returncode == 1 and f"volume {probe}" in left.stderr, left.stderr
            finally:
                remote.volume.remove(probe)
            assert _harness(remote_env, "leftovers", check=False).returncode == 0
    finally:
        down = _harness(remote_env, "down", check=False)

    with phase(5, "Nothing of the stack is left on either engine"):
        assert down.returncode == 0, down.stderr[-2000:]
        wait_for(lambda: remote.container.list(all=True, filters=label) == [], timeout=30,
                 description="the remote stack's containers to be gone")
        assert remote.network.list(filters=label) == []
        assert remote.volume.list(filters=label) == []
        assert main.container.list(all=True, filters=label) == []
