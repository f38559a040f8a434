"""Need markers from fixtures, skips with reasons on a url target, the summary of skips, and
nothing skipped on source (pytester; the fixtures are fakes, no stack)."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest

@pytest.fixture
def pg(): return "pg"

@pytest.fixture
def ec2(): return "ec2"

@pytest.fixture
def api_client(): return "admin"

@pytest.fixture
def test_customer(api_client, ec2): return "customer"
"""
TESTS = """
import pytest

def test_contract_only(): pass

def test_journey(test_customer): pass

def test_glass_box(test_customer, pg): pass

@pytest.mark.serial
def test_restart(test_customer): pass

def test_status(stack): pass

@pytest.mark.requires_datastores
def test_every_store(): pass
"""
FILE = """
name = "stg"
portal_url = "http://127.0.0.1:9"
admin_token_env = "STG_TOKEN"
[simulator]
aws_url = "http://127.0.0.1:9"
[datastores]
postgres = "127.0.0.1:9"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=TESTS)
    pytester.makefile(".toml", stg=FILE)
    return pytester


def test_on_source_nothing_is_skipped_and_markers_are_set(suite: pytest.Pytester):
    suite.makepyfile(test_markers="""
def test_markers_of_glass_box(request):
    items = {i.name: i for i in request.session.items}
    names = lambda n: sorted(m.name for m in items[n].iter_markers()
                             if m.name.startswith(("req", "des")))
    assert names("test_glass_box") == [
        "requires_admin", "requires_aws_simulator", "requires_datastores"]
    assert items["test_glass_box"].get_closest_marker("requires_datastores").args == ("postgres",)
    assert names("test_restart") == ["destructive", "requires_admin", "requires_aws_simulator"]
    assert names("test_contract_only") == []
""")
    result = suite.runpytest("-p", "no:randomly", "-k", "not test_status")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["target: source (this checkout, built)"])


def test_on_a_url_target_each_test_is_skipped_with_what_the_target_lacks(
        suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("STG_TOKEN", raising=False)
    result = suite.runpytest("-p", "no:randomly", "--target", "stg.toml", "-rs")
    result.assert_outcomes(passed=1, skipped=5)  # only the contract test runs
    result.stdout.fnmatch_lines([
        "target: url (stg, stg.toml)",
        "*skipped on target 'stg' (stg.toml)*",
        "   3 tests skipped: requires_admin (admin_token_env STG_TOKEN is not set)",
        "   1 tests skipped: destructive (never against a deployed environment)",
        "   1 tests skipped: requires_datastores (no [datastores] redis, clickhouse, qdrant)",
        "   1 tests skipped: requires_docker (a deployed environment: no Docker)",
    ])


def test_with_the_token_set_only_what_the_file_lacks_is_skipped(
        suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STG_TOKEN", "t")
    result = suite.runpytest("-p", "no:randomly", "--target", "stg.toml", "-rs")
    result.assert_outcomes(passed=3, skipped=3)  # contract, journey, glass box (postgres given)
    result.stdout.fnmatch_lines(["*test_suite.py*lacks: destructive*",
                                 "*test_suite.py*lacks: requires_docker*",
                                 "*test_suite.py*lacks: requires_datastores*"])


def test_a_bad_target_is_a_usage_error_naming_the_key_and_line(suite: pytest.Pytester):
    suite.makefile(".toml", bad='name = "x"\nportal_url = "ftp://h"\n')
    result = suite.runpytest("--target", "bad.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*bad.toml:2: portal_url: must be an http:// or https:// URL*"])


def test_the_platform_journey_needs_qdrant_for_its_learning_phase(tmp_path):
    # It reads Qdrant through E2E_QDRANT_URL, not a fixture: its marker says so, and a url
    # target without [datastores] qdrant skips it (before any stack or HTTP call).
    import os
    import subprocess
    import sys

    from harness.domain import REPO_ROOT

    target = tmp_path / "t.toml"
    target.write_text('portal_url = "http://127.0.0.1:9"\nadmin_token_env = "T_TOKEN"\n'
                      '[simulator]\naws_url = "http://127.0.0.1:9"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2E_", "PYTEST_XDIST"))}
    got = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", "-p",
         "no:cacheprovider", "--target", str(target), "-k", "test_spot_migration_journey",
         "scenarios/platform/test_platform_journey.py"],
        cwd=REPO_ROOT, env={**env, "T_TOKEN": "x", "E2E_ARTIFACTS_DIR": str(tmp_path / "a")},
        capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-2000:]
    assert "lacks: requires_datastores (no [datastores] qdrant)" in got.stdout, got.stdout[-3000:]
    assert "1 skipped" in got.stdout
