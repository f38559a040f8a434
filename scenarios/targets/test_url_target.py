"""The url target against the running stack, as if it were a deployed environment:
``make validate-rc RC=<target file>`` makes no Docker call (``docker`` on its PATH is a stub
that records any call and fails), runs what the file allows, skips the rest with reasons,
and gives a GO verdict.md that names the target file and the skips.
"""

from __future__ import annotations

import json
import os
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
    run_id = f"rc-url-{os.getpid()}"
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               RC_ADMIN_TOKEN=endpoints.admin_token, E2E_ARTIFACTS_DIR=str(tmp_path / "art"),
               E2E_RUN_ID=run_id)
    # make validate-rc RC=<target file>, narrowed to the contract, datastores and resilience
    result = subprocess.run(
        [sys.executable, "-m", "harness", "validate-rc", str(target), "--workers", "2",
         "--reruns", "0", "--waivers", str(tmp_path / "no-waivers.toml"), "--pytest-args",
         "-p no:randomly -p no:cacheprovider -rs "
         "-k 'test_platform_bad_input or test_datastores or test_resilience'"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert not calls.exists(), f"Docker was called on the url target:\n{calls.read_text()}"
    verdict_dir = tmp_path / "art" / run_id
    verdict = json.loads((verdict_dir / "verdict.json").read_text())
    assert verdict["verdict"] == "GO" and verdict["target"]["kind"] == "url", verdict
    # the six bad-input tests (admin and simulator given) and the simulator's own smoke test
    assert verdict["totals"].get("passed", 0) >= 7, verdict["totals"]
    for line in ("tests skipped: destructive (never against a deployed environment)",
                 "tests skipped: requires_docker (a deployed environment: no Docker)",
                 "tests skipped: requires_datastores (no [datastores] postgres)"):
        assert line in out, out[-3000:]
    md = (verdict_dir / "verdict.md").read_text()
    assert "lacks: requires_docker (a deployed environment: no Docker)" in md
    assert f"`{target}`: portal {endpoints.portal_url}" in md
