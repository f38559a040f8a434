"""The url target against the running stack, as if it were a deployed environment: a nested
pytest run given only a target file makes no Docker call (``docker`` on its PATH is a stub
that records any call and fails), runs what the file allows, and skips the rest with reasons.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.domain import REPO_ROOT, Endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.requires_docker]  # needs the stack of this run

STUB = """#!/bin/sh
echo "$*" >> "{log}"
echo "docker is not to be called on the url target" >&2
exit 1
"""


def test_url_target_makes_no_docker_call_and_skips_what_the_file_lacks(
        endpoints: Endpoints, tmp_path: Path) -> None:
    bin_dir, calls = tmp_path / "bin", tmp_path / "docker-calls.log"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(STUB.format(log=calls))
    (bin_dir / "docker").chmod(0o755)
    target = tmp_path / "deployed.toml"
    target.write_text(f'name = "deployed"\nportal_url = "{endpoints.portal_url}"\n'
                      f'admin_token_env = "RC_ADMIN_TOKEN"\n'
                      f'[simulator]\naws_url = "{endpoints.aws_url}"\n')
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("E2E_RUN_ID", "E2E_SESSION", "E2E_TARGET", "PYTEST_XDIST"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               RC_ADMIN_TOKEN=endpoints.admin_token, E2E_ARTIFACTS_DIR=str(tmp_path / "art"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-q", "-rs", "--target", str(target),
         "scenarios/platform/test_platform_bad_input.py", "scenarios/stack/test_datastores.py",
         "scenarios/test_resilience.py"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert not calls.exists(), f"Docker was called on the url target:\n{calls.read_text()}"
    # the six bad-input tests (admin and simulator given) and the simulator's own smoke test
    passed = re.search(r"(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 7, out[-3000:]
    for line in ("tests skipped: destructive (never against a deployed environment)",
                 "tests skipped: requires_docker (a deployed environment: no Docker)",
                 "tests skipped: requires_datastores (no [datastores] postgres)"):
        assert line in out, out[-3000:]
