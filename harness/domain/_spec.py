"""What the OptiInfra stack is: its compose file, its published ports, its credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from harness.core import PortSpec, StackConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.e2e.yml"
BASE_IMAGE_CANDIDATES = ("debian:bookworm-slim", "optiinfra-e2e/debian:bookworm")
PROJECT_NAME = "optiinfra-e2e"  # E2E_PROJECT overrides it
# docker-compose.e2e.yml puts <prefix>.harness/.run/.owner on every resource it creates.
LABEL_PREFIX = "com.optiinfra.e2e"
SETUP_HINT = ("On a Debian machine as root `make setup` (scripts/ensure-docker.sh) provisions "
              "and starts one; elsewhere install Docker Engine with the Compose v2 plugin and "
              "start it.")

# Host port = default_port + E2E_PORT_OFFSET (default 1 -> the seed's ports).
PORTS = [
    PortSpec(service="postgres", name="POSTGRES", container_port=5432, default_port=5432),
    PortSpec(service="clickhouse", name="CLICKHOUSE_HTTP", container_port=8123, default_port=8123),
    PortSpec(service="clickhouse", name="CLICKHOUSE_NATIVE", container_port=9000,
             default_port=9000),
    PortSpec(service="redis", name="REDIS", container_port=6379, default_port=6379),
    PortSpec(service="qdrant", name="QDRANT", container_port=6333, default_port=6333),
    PortSpec(service="aws", name="AWS", container_port=4566, default_port=4566),
    PortSpec(service="orchestrator", name="ORCHESTRATOR", container_port=8000, default_port=8000),
    PortSpec(service="portal", name="PORTAL", container_port=3000, default_port=3000),
]

POSTGRES_USER = POSTGRES_PASSWORD = POSTGRES_DB = "optiinfra"
AWS_REGION = "us-east-1"
DEFAULT_ADMIN_TOKEN = "e2e-admin-token"


def stack_config(environ: Mapping[str, str] | None = None, **overrides: object) -> StackConfig:
    """The OptiInfra stack's settings, from E2E_* variables (see README)."""
    env = os.environ if environ is None else environ
    defaults: dict[str, object] = {
        "compose_files": [COMPOSE_FILE],
        "project_name": PROJECT_NAME,
        "label_prefix": LABEL_PREFIX,
        "setup_hint": SETUP_HINT,
        "ports": PORTS,
        "state_dir": REPO_ROOT / ".e2e",
        "base_image_candidates": list(BASE_IMAGE_CANDIDATES),
    }
    defaults.update(overrides)
    return StackConfig.from_env(env, **defaults)
