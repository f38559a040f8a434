"""pytest side of the target switch: ``--target``, the need markers, skips with reasons, and
the list of what was skipped and why at the end of the run.

Loaded by ``harness.plugin`` (its ``pytest_plugins``), so it comes with the harness.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from ._needs import NEEDS, add_needs, needs_of
from ._target import TARGET_ENV, Target, resolve_target

TARGET_KEY = pytest.StashKey[Target]()
# Where the platform's plain-HTTP scenarios and other subprocesses read their addresses.
_URL_ENV = {"E2E_PORTAL_URL": "portal_url", "E2E_AWS_URL": "aws_url",
            "E2E_QDRANT_URL": "qdrant_url"}
_NOWHERE = "http://127.0.0.1:9"  # discard port: an address the file does not give


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("optiinfra-e2e", "OptiInfra E2E stack")
    group.addoption("--target", default=None, metavar="KIND",
                    help="source (default: build this checkout), images (E2E_IMAGE_TAG / "
                         "E2E_IMAGE_ARCHIVE, nothing built) or url (E2E_TARGET_FILE, or the "
                         ".toml file itself: a deployed environment, no Docker call); "
                         f"default ${TARGET_ENV}")


def target_of(config: pytest.Config) -> Target:
    return config.stash[TARGET_KEY]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name, text in NEEDS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    try:
        target = resolve_target(config.getoption("target", None))
    except Exception as exc:  # a bad target is a usage error: pytest prints it and stops
        raise pytest.UsageError(str(exc)) from exc
    config.stash[TARGET_KEY] = target
    config.pluginmanager.register(SkipLog(config), f"optiinfra-e2e-skiplog-{id(config)}")
    if target.file is not None:
        # xdist workers get --target themselves; these are for what reads the environment.
        ep = target.endpoints()
        wanted = {var: getattr(ep, attr) or _NOWHERE for var, attr in _URL_ENV.items()}
        wanted["E2E_ADMIN_TOKEN"] = ep.admin_token
        before = {var: os.environ.get(var) for var in wanted}
        os.environ.update(wanted)
        config.add_cleanup(lambda: _restore(before))  # a nested session (pytester) leaks none


def _restore(before: dict[str, str | None]) -> None:
    for var, value in before.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


def pytest_report_header(config: pytest.Config) -> str:
    return f"target: {target_of(config).label}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = target_of(config)
    for item in items:
        add_needs(item)
        reason = target.skip_reason(needs_of(item))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def skip_lines(reasons: list[str]) -> list[str]:
    """How many tests each lacking need skipped, and why; then the other skips."""
    per_need: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for reason in reasons:
        _, sep, needs = reason.partition(" lacks: ")
        if not sep:
            other[reason] += 1
            continue
        per_need.update(needs.split("; "))
    lines = [f"{n:4d} tests skipped: {need}" for need, n in
             sorted(per_need.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines += [f"{n:4d} tests skipped: {why}" for why, n in
              sorted(other.items(), key=lambda kv: (-kv[1], kv[0]))]
    return lines


class SkipLog:
    """The skip reasons one session's controller saw (xdist sends it every report); one per
    config, so a nested session (pytester) keeps its own."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.reasons: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and report.when == "setup" and isinstance(report.longrepr, tuple):
            self.reasons.append(str(report.longrepr[2]).removeprefix("Skipped: "))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if hasattr(self.config, "workerinput") or not self.reasons:
            return
        where = target_of(self.config).where
        terminalreporter.write_sep("-", f"skipped on {where} (a test may lack several)")
        for line in skip_lines(self.reasons):
            terminalreporter.write_line(line)
