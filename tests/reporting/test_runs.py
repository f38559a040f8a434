"""A run's id and folder, its settings from options and E2E_* variables, and latest/."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.core import ConfigError
from harness.reporting import RunSettings, publish_latest, run_id, utc_stamp
from harness.reporting._runs import run_id_from_env

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-REPORT-01")]


def test_a_run_id_sorts_by_time_and_names_its_session():
    assert utc_stamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "20260102T030405Z"
    assert run_id("20260102T030405Z", "a/b c") == "20260102T030405Z-a.b_c"


def test_E2E_RUN_ID_wins_over_stamp_and_session():
    env = {"E2E_ARTIFACTS_STAMP": "20260102T030405Z", "E2E_SESSION_ID": "s1"}
    assert run_id_from_env(env) == "20260102T030405Z-s1"
    assert run_id_from_env({**env, "E2E_RUN_ID": "20260102T000000Z-test-9"}) == \
        "20260102T000000Z-test-9"


def test_settings_come_from_options_then_the_environment(tmp_path):
    env = {"E2E_ARTIFACTS_DIR": "out", "E2E_NO_BUNDLE": "1", "E2E_KEEP_RUNS": "3"}
    settings = RunSettings.resolve(artifacts_dir=None, no_bundle=False, cwd=tmp_path,
                                   environ=env)
    assert settings == RunSettings(root=tmp_path / "out", bundles=False, keep_runs=3)
    option = RunSettings.resolve(artifacts_dir="/abs/dir", no_bundle=False, cwd=tmp_path,
                                 environ={"E2E_NO_BUNDLE": "0"})
    assert option == RunSettings(root=Path("/abs/dir"), bundles=True, keep_runs=20)


def test_a_bad_E2E_KEEP_RUNS_says_what_it_wants(tmp_path):
    with pytest.raises(ConfigError, match="E2E_KEEP_RUNS='many' is not a whole number"):
        RunSettings.resolve(artifacts_dir=None, no_bundle=False, cwd=tmp_path,
                            environ={"E2E_KEEP_RUNS": "many"})


def test_latest_holds_copies_of_the_reports_and_the_run_id(tmp_path):
    run = tmp_path / "20260102T030405Z-s1"
    run.mkdir()
    (run / "summary.md").write_text("# run\n")
    publish_latest(tmp_path / "latest", [run / "summary.md"], run.name)
    publish_latest(tmp_path / "latest", [run / "summary.md"], run.name)  # replaces in place
    assert sorted(p.name for p in (tmp_path / "latest").iterdir()) == ["RUN_ID", "summary.md"]
    assert (tmp_path / "latest" / "RUN_ID").read_text() == f"{run.name}\n"
