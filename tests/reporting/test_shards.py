"""Nightly shards balanced by wall time: one plan over the whole collection (serial tests at
their seconds, the rest at seconds / parallelism), the same in a shard's serial and parallel
pytest calls, so every test runs in exactly one shard and part."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_split.algorithms import Algorithms

from harness.core import ConfigError
from harness.reporting._shards import (
    default_parallelism,
    load_durations,
    parse_shard,
    plan_shards,
)

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-01")]

ROOT = Path(__file__).resolve().parents[2]


def suite(serial: dict[str, float], parallel: dict[str, float]
          ) -> tuple[dict[str, bool], dict[str, float]]:
    """(node id -> serial or not, seconds) as the plan takes them."""
    return {**dict.fromkeys(serial, True), **dict.fromkeys(parallel, False)}, \
        {**serial, **parallel}


@dataclass(frozen=True)
class Node:
    nodeid: str


def test_every_test_lands_in_exactly_one_shard_and_the_plan_ignores_the_order():
    tests, seconds = suite({f"s{i}": 10.0 * i for i in range(7)},
                           {f"p{i}": float(i % 13 + 1) for i in range(60)})
    plan = plan_shards(tests, seconds, 3, 2.5)
    ids = [n for shard in plan for n in shard.serial + shard.parallel]
    assert sorted(ids) == sorted(tests)
    shuffled = list(tests.items())
    random.Random(7).shuffle(shuffled)
    assert plan_shards(dict(shuffled), seconds, 3, 2.5) == plan  # randomly's order: no move


def test_serial_seconds_weigh_in_full_and_parallel_seconds_divided():
    # one 120 s serial test against eight 60 s parallel tests on parallelism 4: 120 vs 120
    tests, seconds = suite({"s": 120.0}, {f"p{i}": 60.0 for i in range(8)})
    one, two = plan_shards(tests, seconds, 2, 4)
    assert (one.serial, one.parallel) == (("s",), ()) or (two.serial, two.parallel) == (("s",), ())
    assert one.wall_s == two.wall_s == 120.0


def test_a_joint_plan_balances_walls_that_a_split_per_part_leaves_apart():
    # one serial test far longer than the others, and parallel tests of mixed length
    serial = {"remote": 300.0, "rc-go": 100.0, "rc-nogo": 90.0, "mem": 10.0}
    parallel = {f"p{i:02}": float(10 + (i * 7) % 31) for i in range(60)}
    tests, seconds = suite(serial, parallel)
    k = 2.5

    def per_part_walls() -> list[float]:  # what pytest-split did: each part on its own
        walls = [0.0, 0.0, 0.0]
        for part, div in ((serial, 1.0), (parallel, k)):
            chosen = [Node(n) for n in tests if n in part]
            for i, group in enumerate(Algorithms.least_duration.value(3, chosen, part)):
                walls[i] += group.duration / div
        return walls

    joint = [s.wall_s for s in plan_shards(tests, seconds, 3, k)]
    split = per_part_walls()
    assert max(split) / min(split) > 1.2  # the problem: the parts' largest groups coincide
    assert max(joint) / min(joint) < 1.05


def test_a_test_without_a_recorded_duration_counts_as_the_average():
    tests, seconds = suite({}, {"a": 10.0, "b": 30.0})
    tests["new"] = False
    plan = plan_shards(tests, seconds, 3, 1)
    assert sorted(s.parallel_s for s in plan) == [10.0, 20.0, 30.0]


def test_the_committed_durations_plan_the_real_suite_in_three_shards_within_a_fifth(tmp_path):
    """The balance the nightly promises, planned from the file `make durations` keeps, over
    the real collection (its serial markers; the remote-engine lane included, as nightly)."""
    env = {**os.environ, "E2E_REMOTE_ENGINE": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "--collect-only", "-q",
                           "-p", "no:xdist", "-p", "no:randomly", "--shard", "1/3",
                           "--shard-parallelism", "2.5", "--artifacts-dir", str(tmp_path)],
                          cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    walls = [float(w) for w in re.findall(r"shard \d: .* ~ (\d+) s", done.stdout)]
    assert len(walls) == 3, done.stdout[-2000:] + done.stderr[-2000:]
    assert max(walls) <= 1.2 * min(walls), walls


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", ""])
def test_a_shard_outside_1_to_n_is_a_config_error(text):
    with pytest.raises(ConfigError, match="expected G/N with 1 <= G <= N"):
        parse_shard(text)


def test_a_durations_file_that_is_not_json_says_how_to_mend_it(tmp_path):
    bad = tmp_path / ".test_durations"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="make durations"):
        load_durations(bad)
    assert load_durations(tmp_path / "missing") == {}


def test_the_default_parallelism_is_the_workers_where_there_are_cores_for_them():
    assert default_parallelism(4, 8) == 4
    assert default_parallelism(4, 2) == 2.5
    assert default_parallelism(4, None) == 1.25


TESTS = """
    import pytest

    @pytest.mark.serial
    def test_long_serial(): pass

    @pytest.mark.serial
    def test_short_serial(): pass

    @pytest.mark.parametrize("i", range(6))
    def test_parallel(i): pass
"""


def selected(result: pytest.RunResult) -> set[str]:
    return {line.split(" ")[0] for line in result.outlines if "::" in line
            and " PASSED" in line}


def test_the_serial_and_the_parallel_call_of_every_shard_run_each_test_once(pytester):
    pytester.makepyfile(test_some=TESTS)
    (pytester.path / "durations.json").write_text(json.dumps({
        "test_some.py::test_long_serial": 100, "test_some.py::test_short_serial": 10,
        **{f"test_some.py::test_parallel[{i}]": 40 for i in range(6)}}))
    runs: dict[tuple[str, str], set[str]] = {}
    for group in ("1/2", "2/2"):
        for part in ("serial", "not serial"):
            result = pytester.runpytest("-p", "no:randomly", "-p", "no:xdist", "-v",
                                        "--shard", group, "--shard-parallelism", "2",
                                        "--shard-durations", "durations.json", "-m", part)
            assert result.ret in (0, 5), result.outlines
            runs[group, part] = selected(result)
    everything = [n for ids in runs.values() for n in ids]
    assert sorted(everything) == sorted(set(everything)) and len(everything) == 8
    # balanced: the two serial tests (100 s, 10 s) go to different shards
    long_group = next(g for (g, part), ids in runs.items()
                      if "test_some.py::test_long_serial" in ids)
    assert "test_some.py::test_short_serial" not in runs[long_group, "serial"]
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:xdist", "--collect-only",
                                "--shard", "1/2", "--shard-parallelism", "2",
                                "--shard-durations", "durations.json")
    result.stdout.fnmatch_lines(["[[]shard 1/2[]] planned from durations.json*",
                                 "  > shard 1: * serial (* s) + * parallel (* s of tests / 2) ~ *"])


def test_a_bad_shard_option_is_a_usage_error(pytester):
    pytester.makepyfile(test_some=TESTS)
    result = pytester.runpytest("-p", "no:xdist", "--shard", "3/2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--shard '3/2': expected G/N with 1 <= G <= N*"])
