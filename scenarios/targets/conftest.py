"""The release-candidate proofs: ``make validate-rc`` in a subprocess on its own stack
(project optiinfra-e2e-rc2, port offset 800), with ``docker`` on its PATH a recorder that
refuses any build, so what the harness asked of Docker is on file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from python_on_whales import DockerClient

from harness.domain import REPO_ROOT
from harness.targets.plugin import target_of

RC_PROJECT, RC_OFFSET = "optiinfra-e2e-rc2", "800"
# Inherited settings that belong to the outer run, not to the validation under test. The
# E2E_*_URL ones are set by scenarios/platform/conftest.py in the outer process whenever make
# test collects that folder: inherited, they sent the inner run's platform tests to the outer
# stack (a broken image set came out GO, an archive NO-GO, depending on the order).
_OUTER = ("E2E_RUN_ID", "E2E_SESSION", "E2E_TARGET", "E2E_IMAGE_", "E2E_ARTIFACTS_DIR",
          "E2E_PROJECT", "E2E_PORT_OFFSET", "E2E_COMPOSE_FILE", "PYTEST_XDIST",
          "E2E_PORTAL_URL", "E2E_AWS_URL", "E2E_QDRANT_URL")
RECORDER = """#!/bin/sh
# docker, recorded; a build of any kind is refused (the images target builds nothing)
echo "$*" >> "{log}"
for arg in "$@"; do
  case "$arg" in build|buildx|--build)
    echo "docker $*: refused, nothing is to be built on the images target" >&2; exit 97;;
  esac
done
exec "{real}" "$@"
"""


@pytest.fixture
def source_target_only(request: pytest.FixtureRequest) -> None:
    """These tests prove the harness itself and start their own stacks: on an images or url
    target (a release candidate's run) they are skipped, not run against the candidate."""
    target = target_of(request.config)
    if target.kind != "source":
        pytest.skip(f"proves validate-rc itself (own stacks); runs on the source target "
                    f"only, not on {target.label}")


@dataclass
class RcRun:
    exit_code: int
    output: str
    run_dir: Path
    docker_calls: list[str]

    @property
    def verdict(self) -> dict[str, Any]:
        return dict(json.loads((self.run_dir / "verdict.json").read_text()))

    @property
    def markdown(self) -> str:
        return (self.run_dir / "verdict.md").read_text()


@pytest.fixture
def own_tag() -> Iterator[str]:
    """A repository of the test's own; its images are removed once its stack is down
    (validate_rc depends on it, so it is torn down after validate_rc's stack)."""
    repo = f"optiinfra-rc-proof-{os.getpid()}"
    yield repo
    docker = DockerClient()
    for image in docker.image.list(filters=[("reference", f"{repo}/*")]):
        # a tag of an image others run is only untagged; the broken image goes
        docker.image.remove([t for t in image.repo_tags if t.startswith(f"{repo}/")],
                            force=True, prune=True)
    assert docker.image.list(filters=[("reference", f"{repo}/*")]) == []


@pytest.fixture
def validate_rc(tmp_path: Path, own_tag: str) -> Iterator[Any]:
    """``validate_rc(rc, pytest_args, **env)``: ``python -m harness validate-rc`` as make
    runs it, on the rc2 stack; the stack is removed afterwards whatever happened."""
    bin_dir, log = tmp_path / "bin", tmp_path / "docker-calls.log"
    bin_dir.mkdir()
    real = shutil.which("docker")
    assert real, "docker is not on PATH"
    (bin_dir / "docker").write_text(RECORDER.format(log=log, real=real))
    (bin_dir / "docker").chmod(0o755)
    # the verdicts are kept beside the outer run's reports (the note quotes them)
    outer = os.environ.get("E2E_RUN_ID")
    artifacts = (Path(os.environ.get("E2E_ARTIFACTS_DIR") or "artifacts").resolve() / outer
                 / "validate-rc-proofs") if outer else tmp_path / "artifacts"
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OUTER)}
    env.update(E2E_PROJECT=RC_PROJECT, E2E_PORT_OFFSET=RC_OFFSET,
               E2E_ARTIFACTS_DIR=str(artifacts))
    runs = 0

    def run(rc: str, pytest_args: str, **extra: str) -> RcRun:
        nonlocal runs
        runs += 1
        run_id = f"rc-proof-{runs}-{os.getpid()}"
        log.write_text("")
        got = subprocess.run(
            [sys.executable, "-m", "harness", "validate-rc", rc, "--workers", "2",
             "--reruns", "0", "--waivers", str(tmp_path / "no-waivers.toml"),
             "--pytest-args", f"-p no:randomly {pytest_args}"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
            env={**env, **extra, "E2E_RUN_ID": run_id,
                 "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"})
        return RcRun(got.returncode, got.stdout + got.stderr, artifacts / run_id,
                     log.read_text().splitlines())

    yield run
    # validate-rc removes its stack; this is for a run killed by the timeout
    subprocess.run([sys.executable, "-m", "harness", "down"], cwd=REPO_ROOT, env=env,
                   capture_output=True, timeout=300, check=False)
