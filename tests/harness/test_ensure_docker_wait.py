"""scripts/ensure-docker.sh waits for dockerd in bash (it runs before any venv exists), with the
same timeout message as harness.core.wait_for. Its wait function is run on its own here."""

from __future__ import annotations

import re
import subprocess

import pytest

from harness.core import WaitTimeoutError, wait_for
from harness.domain import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "ensure-docker.sh"
# What, how long, how often: the first line of WaitReport.render.
FIRST_LINE = re.compile(r"^timed out after \d+\.\ds \(timeout [\d.]+s, every [\d.]+s, "
                        r"\d+ attempts\) waiting for (.+)$")


def bash_wait(*args: str) -> subprocess.CompletedProcess[str]:
    body = f'source <(sed -n "/^wait_until() {{/,/^}}/p" "{SCRIPT}"); wait_until "$@"'
    return subprocess.run(["bash", "-c", body, "wait_until", *args], capture_output=True,
                          text=True, timeout=30, check=False)


def test_met_at_once():
    got = bash_wait("true to succeed", "5", "0.1", "true")
    assert (got.returncode, got.stderr) == (0, "")


def test_timeout_message_matches_wait_for():
    got = bash_wait("a missing file", "0", "0.1", "ls", "/nonexistent-e2e-file")
    assert got.returncode == 1
    lines = got.stderr.splitlines()
    match = FIRST_LINE.match(lines[0])
    assert match and match.group(1) == "a missing file", got.stderr
    assert lines[1].startswith("  last exception: `ls /nonexistent-e2e-file` exited 2: ls: ")

    with pytest.raises(WaitTimeoutError) as err:
        wait_for(lambda: False, timeout=0, description="a missing file")
    python_first = str(err.value).splitlines()[0]
    assert FIRST_LINE.match(python_first), python_first


def test_an_engine_named_by_docker_host_is_waited_for_not_started():
    """A remote engine (DOCKER_HOST=tcp://...) is not this machine's to start: the script
    waits for it, then names it, instead of starting a local dockerd."""
    # Port 9 (discard) on a loopback address: nothing answers there, and nothing leaves.
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin:/usr/local/bin",
           "DOCKER_HOST": "tcp://127.0.0.2:9", "DOCKERD_WAIT_S": "1"}
    got = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                         env=env, check=False)
    assert got.returncode == 1, got.stderr
    assert "ERROR: the engine at tcp://127.0.0.2:9 does not answer" in got.stderr
    assert "starting dockerd" not in got.stderr
