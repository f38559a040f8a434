"""The nightly shard script refuses a shard number it cannot run, before touching Docker."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-01")]

ROOT = Path(__file__).resolve().parents[2]


def shard(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTLY_")}
    return subprocess.run(["bash", "scripts/nightly-shard.sh"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("group", ["0", "4", "x"])
def test_a_group_outside_1_to_shards_is_refused(group):
    done = shard(NIGHTLY_SHARDS="3", NIGHTLY_GROUP=group)
    assert done.returncode == 2
    assert f"NIGHTLY_GROUP={group} must be a number from 1 to NIGHTLY_SHARDS=3" in done.stderr


def test_a_missing_group_says_what_it_is_for():
    done = shard(NIGHTLY_SHARDS="3")
    assert done.returncode != 0 and "says which shard to run" in done.stderr
