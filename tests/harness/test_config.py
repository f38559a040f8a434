"""Stack settings from E2E_* variables: host ports, overrides, and errors that say what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.core import ConfigError, HarnessError, PortSpec, StackConfig
from harness.domain import stack_config

SEED_PORTS = {  # offset 1, the default: the seed's host ports
    "E2E_PORT_POSTGRES": "5433",
    "E2E_PORT_CLICKHOUSE_HTTP": "8124",
    "E2E_PORT_CLICKHOUSE_NATIVE": "9001",
    "E2E_PORT_REDIS": "6380",
    "E2E_PORT_QDRANT": "6334",
    "E2E_PORT_AWS": "4567",
    "E2E_PORT_ORCHESTRATOR": "8001",
    "E2E_PORT_PORTAL": "3001",
    "E2E_PUBLISH_HOST": "127.0.0.1",  # the local engine publishes on loopback only
}


# -- host ports --------------------------------------------------------------------------------

def test_offset_one_gives_the_seed_ports():
    assert stack_config(environ={"E2E_PORT_OFFSET": "1"}).compose_env() == SEED_PORTS


def test_default_offset_is_one():
    config = stack_config(environ={})
    assert config.port_offset == 1
    assert config.compose_env() == SEED_PORTS


def test_ports_are_default_plus_offset():
    config = stack_config(environ={"E2E_PORT_OFFSET": "100"})
    assert config.port_for("postgres", 5432) == 5532
    assert config.port_for("clickhouse", 9000) == 9100
    assert config.port_for("portal", 3000) == 3100
    assert stack_config(environ={"E2E_PORT_OFFSET": "0"}).port_for("redis", 6379) == 6379


def test_explicit_port_variable_wins_over_the_offset():
    config = stack_config(environ={"E2E_PORT_OFFSET": "5", "E2E_PORT_REDIS": "7000"})
    assert config.port_for("redis", 6379) == 7000
    assert config.port_for("qdrant", 6333) == 6338  # the others still follow the offset
    assert config.compose_env()["E2E_PORT_REDIS"] == "7000"


def test_an_explicit_environ_replaces_the_process_environment(monkeypatch):
    monkeypatch.setenv("E2E_PORT_OFFSET", "7")
    monkeypatch.setenv("E2E_PORT_REDIS", "7777")
    assert stack_config(environ={}).port_for("redis", 6379) == 6380
    assert stack_config().port_for("redis", 6379) == 7777


def test_unknown_published_port_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"no published port 1234 for service 'redis'.*6379"):
        stack_config(environ={}).port_for("redis", 1234)


# -- other settings ----------------------------------------------------------------------------

def test_project_timeout_compose_files_and_base_image_come_from_the_environment(tmp_path):
    a, b = tmp_path / "a.yml", tmp_path / "b.yml"
    config = stack_config(environ={
        "E2E_PROJECT": "e2e-alice_2",
        "E2E_UP_TIMEOUT": "12.5",
        "E2E_COMPOSE_FILE": f"{a}{os.pathsep}{b}",
        "E2E_BASE_IMAGE": "debian:bookworm-slim",
    })
    assert config.project_name == "e2e-alice_2"
    assert config.up_timeout_s == 12.5
    assert config.compose_files == [a, b]
    assert config.base_image == "debian:bookworm-slim"


def test_compose_env_holds_ports_base_image_and_extra_env():
    config = stack_config(environ={"E2E_BASE_IMAGE": "base:1"}, extra_env={"LC_READY": "3"})
    env = config.compose_env()
    assert env == {**SEED_PORTS, "E2E_BASE_IMAGE": "base:1", "LC_READY": "3"}
    assert all(isinstance(v, str) for v in env.values())


def test_compose_env_has_no_base_image_when_none_is_set():
    assert "E2E_BASE_IMAGE" not in stack_config(environ={}).compose_env()


def test_keyword_overrides_reach_the_config():
    config = stack_config(environ={}, build=False, keep_on_failure=True)
    assert (config.build, config.keep_on_failure) == (False, True)


# -- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", ["-1", "50001"])
def test_offset_out_of_range_is_a_config_error(offset):
    with pytest.raises(ConfigError, match=f"E2E_PORT_OFFSET must be between 0 and 50000, "
                                          f"got {offset}"):
        stack_config(environ={"E2E_PORT_OFFSET": offset})


@pytest.mark.parametrize(("name", "value"), [("E2E_PORT_OFFSET", "two"),
                                             ("E2E_PORT_OFFSET", "1.5"),
                                             ("E2E_UP_TIMEOUT", "soon")])
def test_non_numeric_setting_is_a_config_error_naming_the_variables(name, value):
    with pytest.raises(ConfigError) as err:
        stack_config(environ={name: value})
    message = str(err.value)
    assert f"'{value}'" in message  # the offending value
    assert "E2E_PORT_OFFSET is an integer, E2E_UP_TIMEOUT seconds" in message
    assert isinstance(err.value, HarnessError)
    assert isinstance(err.value.__cause__, ValueError)


def test_non_numeric_port_variable_is_a_config_error():
    with pytest.raises(ConfigError, match="E2E_PORT_REDIS='sixty' is not a port number"):
        stack_config(environ={"E2E_PORT_REDIS": "sixty"})


@pytest.mark.parametrize("project", ["Upper", "has space", "-leading-dash", "dots.too"])
def test_bad_project_name_is_a_config_error(project):
    with pytest.raises(ConfigError) as err:
        stack_config(environ={"E2E_PROJECT": project})
    assert "compose project names are lowercase letters, digits" in str(err.value)
    assert repr(project) in str(err.value)


@pytest.mark.parametrize("port", ["0", "65536", "-80"])
def test_port_variable_outside_the_range_is_a_config_error(port):
    config = stack_config(environ={"E2E_PORT_REDIS": port})
    with pytest.raises(ConfigError) as err:
        config.compose_env()
    message = str(err.value)
    assert f"redis:6379 would be {port}, outside 1-65535" in message
    assert "set E2E_PORT_REDIS" in message


def test_offset_pushing_a_port_past_65535_is_a_config_error():
    spec = PortSpec(service="web", name="WEB", container_port=80, default_port=65535)
    config = StackConfig(compose_files=[Path("c.yml")], ports=[spec], port_offset=1)
    with pytest.raises(ConfigError, match=r"would be 65536.*lower E2E_PORT_OFFSET \(now 1\)"):
        config.host_port(spec)


@pytest.mark.parametrize("timeout", ["-5", "nan"])
def test_up_timeout_must_be_a_positive_number_of_seconds(timeout):
    with pytest.raises(ConfigError, match="E2E_UP_TIMEOUT"):
        stack_config(environ={"E2E_UP_TIMEOUT": timeout})


# -- what is OptiInfra's comes from the domain, not the core -----------------------------------

def test_the_core_defaults_name_no_particular_stack(tmp_path):
    config = StackConfig.from_env({}, compose_files=[tmp_path / "c.yml"])
    assert (config.project_name, config.label_prefix) == ("e2e", "e2e.harness")
    assert "optiinfra" not in config.model_dump_json().lower()
    assert "make setup" not in config.setup_hint


def test_the_domain_fills_in_project_labels_and_setup_hint():
    config = stack_config(environ={})
    assert config.project_name == "optiinfra-e2e"
    assert config.labels.harness == "com.optiinfra.e2e.harness"
    assert (config.labels.run, config.labels.owner) == ("com.optiinfra.e2e.run",
                                                        "com.optiinfra.e2e.owner")
    assert "`make setup`" in config.setup_hint
    assert stack_config(environ={"E2E_PROJECT": "mine"}).project_name == "mine"


def test_the_compose_file_uses_the_domain_s_label_prefix():
    compose = (Path(__file__).parents[2] / "docker-compose.e2e.yml").read_text()
    labels = stack_config(environ={}).labels
    for name in (labels.harness, labels.run, labels.owner):
        assert f"{name}:" in compose, name


@pytest.mark.parametrize("prefix", ["", "Com.Example", "com..example", "com.example.", "a b"])
def test_a_bad_label_prefix_is_a_config_error(prefix, tmp_path):
    with pytest.raises(ConfigError, match="label prefix"):
        StackConfig.from_env({}, compose_files=[tmp_path / "c.yml"], label_prefix=prefix)
