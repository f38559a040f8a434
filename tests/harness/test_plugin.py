"""The pytest plugin's wiring (entry point optiinfra_e2e), checked with pytester."""

from __future__ import annotations

import pytest

from harness.plugin import MARKERS


@pytest.fixture(autouse=True)
def keep_session_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-process pytest run configures the plugin again, which sets a new session id and
    owner pid in os.environ; put this session's back afterwards (monkeypatch restores)."""
    for name in ("E2E_SESSION_ID", "E2E_SESSION_PID"):
        monkeypatch.setenv(name, "outer-session")


def test_plugin_markers_are_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines([
        "@pytest.mark.e2e: end-to-end test against the running compose stack*",
        "@pytest.mark.slow: takes more than 30 s",
        "@pytest.mark.integration: *",
        "@pytest.mark.unit: fast, no Docker, no network",
        "@pytest.mark.performance: *",
        "@pytest.mark.security: *",
        "@pytest.mark.requires_aws: needs the AWS simulator",
        "@pytest.mark.serial: disturbs the shared stack*",
    ])
    assert result.ret == 0


def test_registered_markers_pass_strict_markers(pytester):
    decorators = "\n".join(f"@pytest.mark.{name}" for name in MARKERS)
    pytester.makepyfile(f"import pytest\n\n{decorators}\ndef test_marked():\n    pass\n")
    result = pytester.runpytest("--strict-markers", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    assert set(MARKERS) == {"e2e", "slow", "integration", "unit", "performance", "security",
                            "requires_aws", "serial", "browser"}


def test_unknown_marker_fails_under_strict_markers(pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.e2e_typo
        def test_marked():
            pass
    """)
    result = pytester.runpytest("--strict-markers", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*'e2e_typo' not found in `markers` configuration option*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.assert_outcomes(errors=1)


def test_stack_options_are_in_help(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines([
        "OptiInfra E2E stack:",
        "*--keep-stack*do not tear down a stack this session started",
        "*--no-build*start the stack from the images already built",
    ])
    assert result.ret == 0


def test_slow_tests_are_handed_out_first_keeping_the_order_within_each_group(pytester):
    pytester.makepyfile(test_order="""
        import pytest

        def test_a(): pass

        @pytest.mark.slow
        def test_b(): pass

        def test_c(): pass

        @pytest.mark.slow
        def test_d(): pass
    """)
    result = pytester.runpytest("-p", "no:randomly", "--collect-only", "-q")
    listed = [line.split("::")[-1] for line in result.outlines if "::test_" in line]
    assert listed == ["test_b", "test_d", "test_a", "test_c"]
