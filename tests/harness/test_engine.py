"""A stack on another Docker engine: its host comes from DOCKER_HOST or the docker context, and
the clients, the published address and the port check use it instead of 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.core import (
    ConfigError,
    PortConflictError,
    PortSpec,
    Stack,
    StackConfig,
    engine_host,
    engine_url,
    host_of,
    is_local_address,
    port_is_free,
    publish_address,
)
from harness.domain import Endpoints, stack_config

from .fakes import LABEL_PREFIX, FakeDocker, container

OTHER_LOOPBACK = "127.0.0.2"  # still this machine (all of 127/8 is loopback on Linux)


@pytest.mark.parametrize(("url", "host"), [
    (None, "127.0.0.1"),
    ("unix:///var/run/docker.sock", "127.0.0.1"),
    ("tcp://127.0.0.2:23750", "127.0.0.2"),
    ("tcp://build-box.example:2376", "build-box.example"),
    ("ssh://ci@build-box.example:2222", "build-box.example"),
    ("ssh://build-box.example", "build-box.example"),
])
def test_the_engines_host_comes_from_its_address(url, host):
    assert host_of(url) == host


def test_an_address_with_no_host_is_a_config_error_naming_the_fix():
    with pytest.raises(ConfigError, match="set E2E_HOST"):
        host_of("tcp://:2375")


def write_context(config_dir: Path, name: str, host: str) -> None:
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps(
        {"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host}}}))


def test_docker_host_wins_over_the_context(tmp_path):
    write_context(tmp_path, "far", "ssh://far.example")
    env = {"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "far",
           "DOCKER_HOST": "tcp://127.0.0.2:23750"}
    assert engine_host(env) == "127.0.0.2"


def test_the_current_context_of_the_cli_config_names_the_engine(tmp_path):
    write_context(tmp_path, "far", "ssh://ci@far.example")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "far"}))
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert engine_url(env) == "ssh://ci@far.example"
    assert engine_host(env) == "far.example"


def test_docker_context_variable_picks_a_context(tmp_path):
    write_context(tmp_path, "other", "tcp://127.0.0.3:2375")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert engine_host({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "other"}) == \
        "127.0.0.3"
    assert engine_host({"DOCKER_CONFIG": str(tmp_path)}) == "127.0.0.1"  # default context


def test_a_context_that_does_not_exist_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="docker context 'gone' has no readable endpoint"):
        engine_host({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "gone"})


def test_e2e_host_overrides_the_derivation():
    assert engine_host({"DOCKER_HOST": "tcp://10.0.0.5:2375", "E2E_HOST": "gw.example"}) == \
        "gw.example"


def test_a_remote_engine_moves_clients_and_published_ports_to_its_host():
    config = stack_config(environ={"DOCKER_HOST": f"tcp://{OTHER_LOOPBACK}:23750",
                                   "E2E_PORT_OFFSET": "600"})
    endpoints = Endpoints.from_config(config)

    assert config.host == OTHER_LOOPBACK
    assert config.compose_env()["E2E_PUBLISH_HOST"] == OTHER_LOOPBACK
    assert endpoints.portal_url == f"http://{OTHER_LOOPBACK}:3600"
    assert endpoints.postgres_dsn.endswith(f"@{OTHER_LOOPBACK}:6032/optiinfra")
    assert endpoints.redis_url == f"redis://{OTHER_LOOPBACK}:6979/0"


def test_the_local_engine_keeps_loopback():
    config = stack_config(environ={})
    assert config.host == "127.0.0.1"
    assert Endpoints.from_config(config).portal_url == "http://127.0.0.1:3001"


def test_publish_host_can_be_set_apart_from_the_clients_host():
    config = stack_config(environ={"DOCKER_HOST": "tcp://10.1.2.3:2375",
                                   "E2E_PUBLISH_HOST": "0.0.0.0"})
    assert config.compose_env()["E2E_PUBLISH_HOST"] == "0.0.0.0"


def test_publish_address_of_a_name_is_its_ip():
    assert publish_address("localhost") == "127.0.0.1"
    assert publish_address(OTHER_LOOPBACK) == OTHER_LOOPBACK


def test_loopback_addresses_are_local_and_a_foreign_one_is_not():
    assert is_local_address(OTHER_LOOPBACK)
    assert not is_local_address("192.0.2.1")  # TEST-NET-1: bind fails, nothing is sent


@pytest.fixture
def held_on_other_loopback() -> Iterator[int]:
    """A port this process listens on at 127.0.0.2 (not 127.0.0.1)."""
    with socket.socket() as holder:
        holder.bind((OTHER_LOOPBACK, 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_the_port_check_looks_at_the_engines_host(held_on_other_loopback):
    port = held_on_other_loopback
    assert not port_is_free(port, OTHER_LOOPBACK)
    assert port_is_free(port, "127.0.0.1")  # the same port on another address is free


def test_up_on_a_remote_engine_reports_a_conflict_on_its_host(tmp_path, held_on_other_loopback):
    port = held_on_other_loopback
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services: {}\n")
    config = StackConfig(compose_files=[compose], project_name="e2e-test", build=False,
                         state_dir=tmp_path, label_prefix=LABEL_PREFIX, port_offset=0,
                         host=OTHER_LOOPBACK, ports=[PortSpec(service="db", name="DB",
                                                              container_port=5432,
                                                              default_port=port)])
    docker = FakeDocker(services={"db": []}, snapshots=[[], [container("db")]])
    stack = Stack(config, docker=docker, out=lambda _: None)

    with pytest.raises(PortConflictError) as err:
        stack.up()

    assert f"{OTHER_LOOPBACK}:{port} (wanted by service 'db') is held by process " \
        f"{os.getpid()}" in str(err.value)
    assert docker.called("compose.up") == []
    assert "E2E_PUBLISH_HOST=127.0.0.2" in (tmp_path / "e2e-test.env").read_text()


def test_the_status_table_shows_the_engines_host(tmp_path):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services: {}\n")
    config = StackConfig(compose_files=[compose], project_name="e2e-test", state_dir=tmp_path,
                         label_prefix=LABEL_PREFIX, host=OTHER_LOOPBACK)
    docker = FakeDocker(services={"db": []},
                        snapshots=[[container("db", ports={5432: 6032})]])

    table = Stack(config, docker=docker, out=lambda _: None).status().table()

    assert f"{OTHER_LOOPBACK}:6032->5432" in table
