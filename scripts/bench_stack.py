"""make bench-stack: warm start-to-healthy through the harness vs plain `docker compose up --wait`
on the same file, teardown times, and the stack's memory once healthy. Figures side by side.

Runs on its own port offset (BENCH_PORT_OFFSET, default 300) and project names, so a stack
started by `make start-test-env` is left alone. Images must be built (`make images`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time

from python_on_whales import DockerClient

from harness.core import Stack
from harness.domain import COMPOSE_FILE, stack_config

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
OFFSET = os.environ.get("BENCH_PORT_OFFSET", "300")


def _harness_run() -> tuple[float, float, float]:
    env = dict(os.environ, E2E_PORT_OFFSET=OFFSET, E2E_PROJECT="bench-harness")
    stack = Stack(stack_config(env, build=False), out=lambda _line: None)
    t0 = time.monotonic()
    stack.up()
    up_s = time.monotonic() - t0
    mem = _memory_mib("bench-harness")
    down_s = stack.down(quiet=True)
    return up_s, down_s, mem


def _plain_run() -> tuple[float, float, float]:
    env = dict(os.environ)
    config = stack_config(dict(os.environ, E2E_PORT_OFFSET=OFFSET), build=False)
    env.update(config.compose_env())
    base = ["docker", "compose", "-p", "bench-plain", "-f", str(COMPOSE_FILE)]
    t0 = time.monotonic()
    subprocess.run([*base, "up", "-d", "--wait", "--quiet-pull"], env=env, check=True,
                   capture_output=True)
    up_s = time.monotonic() - t0
    mem = _memory_mib("bench-plain")
    t1 = time.monotonic()
    subprocess.run([*base, "down", "-v", "-t", "5"], env=env, check=True, capture_output=True)
    return up_s, time.monotonic() - t1, mem


def _memory_mib(project: str) -> float:
    docker = DockerClient()
    containers = docker.container.list(filters=[("label", f"com.docker.compose.project={project}")])
    return sum(s.memory_used for s in docker.stats(containers)) / 2**20


def main() -> None:
    print(f"bench-stack: {RUNS} warm runs each, port offset {OFFSET}, images prebuilt")
    harness = [_harness_run() for _ in range(RUNS)]
    plain = [_plain_run() for _ in range(RUNS)]

    def med(rows: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(r[i] for r in rows)

    print(f"{'metric (median)':34} {'harness':>10} {'plain compose':>14}")
    print(f"{'up -> all healthy (s)':34} {med(harness, 0):>10.2f} {med(plain, 0):>14.2f}")
    print(f"{'teardown incl. volumes (s)':34} {med(harness, 1):>10.2f} {med(plain, 1):>14.2f}")
    print(f"{'memory once healthy (MiB)':34} {med(harness, 2):>10.1f} {med(plain, 2):>14.1f}")
    print("(harness up = engine check + orphan sweep + port check + compose up + health wait)")


if __name__ == "__main__":
    main()
