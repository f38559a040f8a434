"""Stack settings: which compose files, which project, which host ports, how long to wait.

Host ports are ``default + offset`` (E2E_PORT_OFFSET, default 1, which gives the seed's
ports); an explicit ``E2E_PORT_<NAME>`` in the environment wins over the computed value.
What is specific to one stack (its project name, the prefix of the labels its compose files
put on every resource, how to get a Docker engine) comes from the layer that knows the stack.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from ._engine import LOCAL_HOST, engine_host, publish_address
from ._exceptions import ConfigError
from ._resources import ResourceLabels

_PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LABEL_PREFIX_RE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
DEFAULT_SETUP_HINT = "install Docker Engine with the Compose v2 plugin and start it."


class PortSpec(BaseModel):
    """A host port the stack publishes: service, its container port, the env var naming it."""

    service: str
    name: str  # env var suffix: E2E_PORT_<name>
    container_port: int
    default_port: int  # host port at offset 0

    @property
    def env_var(self) -> str:
        return f"E2E_PORT_{self.name}"


class StackConfig(BaseModel):
    compose_files: list[Path]
    project_name: str = "e2e"
    # Every container, network and volume carries <prefix>.harness=1, <prefix>.run=<run id>
    # and <prefix>.owner=<owner> (the compose files set them from E2E_RUN_ID/E2E_RUN_OWNER).
    label_prefix: str = "e2e.harness"
    # What to do when no Docker engine answers (the end of EngineUnavailableError's message).
    setup_hint: str = DEFAULT_SETUP_HINT
    port_offset: int = 1
    # The host the engine's published ports answer on: 127.0.0.1 for the local engine, the
    # engine's host for DOCKER_HOST=tcp://..., ssh://... or a docker context (harness.core
    # _engine). Clients and the port check use it; compose publishes on publish_host.
    host: str = LOCAL_HOST
    publish_host: str | None = None  # default: the address of ``host``
    ports: list[PortSpec] = Field(default_factory=list)
    port_overrides: dict[str, int] = Field(default_factory=dict)
    up_timeout_s: float = 300.0
    # While `up` waits: how often it looks at the containers, and how often it prints the
    # services still starting (a long start must never be silent).
    poll_interval_s: float = 0.5
    progress_interval_s: float = 10.0
    build: bool = True
    base_image: str | None = None
    # When base_image is unset: the first of these present in the local engine is used.
    base_image_candidates: list[str] = Field(default_factory=list)
    keep_on_failure: bool = False
    state_dir: Path = Path(".e2e")
    extra_env: dict[str, str] = Field(default_factory=dict)

    @field_validator("project_name")
    @classmethod
    def _project_name_ok(cls, v: str) -> str:
        if not _PROJECT_RE.match(v):
            raise ValueError(f"compose project names are lowercase letters, digits, '-' and '_'"
                             f" and start with a letter or digit; got {v!r}")
        return v

    @field_validator("label_prefix")
    @classmethod
    def _label_prefix_ok(cls, v: str) -> str:
        if not _LABEL_PREFIX_RE.match(v):
            raise ValueError(f"a label prefix is lowercase letters and digits, joined by '.' "
                             f"or '-' (e.g. com.example.e2e); got {v!r}")
        return v

    @property
    def labels(self) -> ResourceLabels:
        return ResourceLabels(self.label_prefix)

    @field_validator("up_timeout_s")
    @classmethod
    def _timeout_ok(cls, v: float) -> float:
        if not v > 0 or v == float("inf"):
            raise ValueError(f"E2E_UP_TIMEOUT must be a positive number of seconds, got {v}")
        return v

    @field_validator("port_offset")
    @classmethod
    def _offset_ok(cls, v: int) -> int:
        if not 0 <= v <= 50000:
            raise ValueError(f"E2E_PORT_OFFSET must be between 0 and 50000, got {v}")
        return v

    def host_port(self, spec: PortSpec) -> int:
        port = self.port_overrides.get(spec.name, spec.default_port + self.port_offset)
        if not 1 <= port <= 65535:
            raise ConfigError(f"host port for {spec.service}:{spec.container_port} would be "
                              f"{port}, outside 1-65535; lower E2E_PORT_OFFSET "
                              f"(now {self.port_offset}) or set {spec.env_var}.")
        return port

    def port_for(self, service: str, container_port: int) -> int:
        for spec in self.ports:
            if spec.service == service and spec.container_port == container_port:
                return self.host_port(spec)
        raise ConfigError(f"no published port {container_port} for service '{service}'; "
                          f"known: {[(p.service, p.container_port) for p in self.ports]}")

    def compose_env(self) -> dict[str, str]:
        """Interpolation variables handed to docker compose."""
        env = {spec.env_var: str(self.host_port(spec)) for spec in self.ports}
        env["E2E_PUBLISH_HOST"] = self.publish_host or publish_address(self.host)
        if self.base_image:
            env["E2E_BASE_IMAGE"] = self.base_image
        env.update(self.extra_env)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **defaults: object) -> StackConfig:
        """Build from E2E_* variables over ``defaults``; bad values raise ConfigError."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = dict(defaults)
        try:
            if "E2E_PORT_OFFSET" in env:
                values["port_offset"] = int(env["E2E_PORT_OFFSET"])
            if "E2E_UP_TIMEOUT" in env:
                values["up_timeout_s"] = float(env["E2E_UP_TIMEOUT"])
        except ValueError as exc:
            raise ConfigError(f"bad number in the environment: {exc}; E2E_PORT_OFFSET is an "
                              f"integer, E2E_UP_TIMEOUT seconds.") from exc
        if env.get("E2E_PROJECT"):
            values["project_name"] = env["E2E_PROJECT"]
        if env.get("E2E_COMPOSE_FILE"):
            values["compose_files"] = [Path(p) for p in env["E2E_COMPOSE_FILE"].split(os.pathsep)]
        if env.get("E2E_BASE_IMAGE"):
            values["base_image"] = env["E2E_BASE_IMAGE"]
        values.setdefault("host", engine_host(env))
        if env.get("E2E_PUBLISH_HOST"):
            values["publish_host"] = env["E2E_PUBLISH_HOST"]
        overrides: dict[str, int] = {}
        ports = values.get("ports") or []
        specs = [PortSpec.model_validate(p) for p in ports] if isinstance(ports, list) else []
        for spec in specs:
            raw = env.get(spec.env_var)
            if raw:
                try:
                    overrides[spec.name] = int(raw)
                except ValueError as exc:
                    raise ConfigError(f"{spec.env_var}={raw!r} is not a port number") from exc
        values["port_overrides"] = overrides
        try:
            return cls.model_validate(values)
        except ValueError as exc:
            raise ConfigError(f"invalid stack settings: {exc}") from exc
