"""pytest hooks for reports a reader who was not there can follow (entry point
``pytest11: optiinfra_e2e_reports``). This module only wires hooks; the work is in:

- ``_markers``: ``@pytest.mark.req(...)`` ids, checked against ``requirements.toml``;
- ``_evidence`` + ``_bundle``: a failure bundle per failing test (a failed call, or a failed
  setup of an ``e2e`` test), written by the process that ran it while its fixtures are alive;
  its path goes into the report (a "failure bundle" section, the ``failure_bundle`` JUnit
  property and, with pytest-html, a link);
- ``_records``: every report -> a TestRecord (per-test data rides on the report);
- ``_handoff``: under xdist, what each worker collected reaches the controller through
  ``workeroutput`` / ``pytest_testnodedown``;
- ``_sessions``: several sessions of one run (``E2E_RUN_ID``) report as one;
- ``_traceability``, ``_summary``, ``_runs``: at the end (controller only),
  ``artifacts/<run>/traceability.md|json`` and ``summary.md``, copied to ``artifacts/latest/``.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Generator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.core import ConfigError, Narrative

from . import _handoff, _sessions
from ._evidence import FailedTest, write_failure_bundle
from ._flaky import FlakyBook, mark_retries_in_junit
from ._markers import MARKER_HELP, check_requirements, load_catalogue, requirements_of
from ._merge import write_history_outputs
from ._records import RecordBook, attach
from ._runs import (
    ARTIFACTS_ENV,
    KEEP_RUNS_ENV,
    NO_BUNDLE_ENV,
    RUN_ENV,
    STAMP_ENV,
    RunSettings,
    prune_runs,
    publish_latest,
    run_id_from_env,
    utc_stamp,
)
from ._shards import ShardSelection, default_parallelism
from ._summary import render_summary, write_summary
from ._traceability import PhaseTiming, build_matrix, merge_records, write_matrix


class _Session:
    """What this pytest process knows about the run (stashed on its config)."""

    def __init__(self, config: pytest.Config) -> None:
        self.is_worker = _handoff.is_worker(config)
        try:
            self.settings = RunSettings.resolve(
                artifacts_dir=config.getoption("artifacts_dir", None),
                no_bundle=bool(config.getoption("no_bundle", False)),
                cwd=config.invocation_params.dir, environ=os.environ)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from exc
        self.catalogue = load_catalogue(config.rootpath)
        self.book = RecordBook()
        self.flaky = FlakyBook()  # attempts pytest-rerunfailures retried
        self.collected: dict[str, list[str]] = {}  # nodeid -> requirement ids
        self.started = time.monotonic()
        self.written: list[Path] = []
        self.pruned: list[Path] = []
        self.error = ""
        self._run_id: str | None = None

    @property
    def run_id(self) -> str:
        # Fixed at session start, not at configure: harness.plugin sets E2E_SESSION_ID after
        # this plugin is configured. Later changes to the environment do not move the run.
        if self._run_id is None:
            self._run_id = run_id_from_env(os.environ)
        return self._run_id

    @property
    def run_dir(self) -> Path:
        return self.settings.root / self.run_id

    # hooks that take no config: registered per session, on this object

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = time.monotonic()
        _ = self.run_id  # fix the run id now

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.flaky.add(report)
        self.book.add(report)  # on the controller, worker reports arrive here too

    @pytest.hookimpl(trylast=True)  # after junitxml has written its file
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        xml = session.config.getoption("xmlpath", None)
        if xml and not self.is_worker:
            mark_retries_in_junit(Path(xml), self.flaky.attempts,
                                  self.flaky.final_outcomes(self.book.records))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        self.collected.update(_handoff.received_collected(node))


_SESSION = pytest.StashKey[_Session]()
_STARTED = pytest.StashKey[datetime]()


def _session(config: pytest.Config) -> _Session:
    return config.stash[_SESSION]


# -- options and configuration ---------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("optiinfra-e2e", "OptiInfra E2E stack")
    group.addoption("--artifacts-dir", default=None, metavar="DIR",
                    help=f"where failure bundles, summary.md and traceability.* go "
                         f"(default: ${ARTIFACTS_ENV} or 'artifacts'; one folder per run)")
    group.addoption("--no-bundle", action="store_true", default=False,
                    help=f"write no failure bundles (also ${NO_BUNDLE_ENV}=1); "
                         f"the summary and traceability matrix are still written")
    group.addoption("--shard", default=None, metavar="G/N",
                    help="run shard G of N (nightly): the whole collection split once by wall "
                         "time, serial tests at their seconds and the rest at seconds / K "
                         "(--shard-parallelism), before -m picks a part")
    group.addoption("--shard-parallelism", type=float, default=None, metavar="K",
                    help="what the shard's xdist workers achieve together (default: "
                         "min($E2E_WORKERS or 4, 1.25 x CPUs)); every shard of a run must "
                         "use the same K, or their plans differ")
    group.addoption("--shard-durations", default=".test_durations", metavar="PATH",
                    help="recorded seconds per test (pytest-split's file; `make durations`)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    if not _handoff.is_worker(config):
        os.environ.setdefault(STAMP_ENV, utc_stamp())  # workers inherit it: one run folder
    st = config.stash[_SESSION] = _Session(config)
    config.pluginmanager.register(st, f"optiinfra-e2e-reports-session-{id(st)}")
    if shard := config.getoption("shard", None):
        try:
            parallelism = config.getoption("shard_parallelism") or default_parallelism(
                int(os.environ.get("E2E_WORKERS", "4")), os.cpu_count())
            selection = ShardSelection(config, shard, parallelism,
                                       Path(config.getoption("shard_durations")))
        except (ConfigError, ValueError) as exc:
            raise pytest.UsageError(str(exc)) from exc
        config.pluginmanager.register(selection, "optiinfra-e2e-shard")


# -- collection: requirement ids -------------------------------------------------------------

# Outermost (tryfirst): an unknown id raises, and an old-style wrapper around ours (e.g.
# schemathesis's) would turn that into a PluggyTeardownRaisedWarning instead of a clear error.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object
                              ) -> Generator[None, Any, Any]:
    result = yield
    catalogue = _session(collector.config).catalogue
    for item in result if isinstance(result, list) else [result]:
        if isinstance(item, pytest.Item):
            check_requirements(item, catalogue)
    return result


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _session(config).collected.update({item.nodeid: requirements_of(item) for item in items})


def pytest_deselected(items: list[pytest.Item]) -> None:
    # Deselected tests still say which requirements have a test (shown as "not run").
    for item in items:
        _session(item.config).collected[item.nodeid] = requirements_of(item)


# -- per test: start time, bundle on failure, data for the controller ------------------------

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = datetime.now(UTC)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    try:
        _annotate(item, call, report)
    except Exception as exc:  # noqa: BLE001 - reporting must never break the run
        report.sections.append(("failure bundle", f"could not write the bundle: {exc!r}"))
    return report


def _narrative(item: pytest.Item) -> Narrative | None:
    from harness.plugin import NARRATIVE_KEY  # the stack plugin keeps each test's story

    return item.stash.get(NARRATIVE_KEY, None)


def _annotate(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
              ) -> None:
    st = _session(item.config)
    story = _narrative(item)
    meta: dict[str, Any] = {"requirements": requirements_of(item)}
    if story is not None and story.phases and report.when != "setup":
        meta["phases"] = [asdict(PhaseTiming(p.number, p.title, p.outcome, p.duration_s))
                          for p in story.phases]
        if story.failed_phase is not None:
            meta["failed_phase"] = f"PHASE {story.failed_phase.number}: {story.failed_phase.title}"
    wants_bundle = report.failed and (
        report.when == "call"
        or (report.when == "setup" and item.get_closest_marker("e2e") is not None))
    if wants_bundle and st.settings.bundles:
        ended = datetime.now(UTC)
        bundle, index = write_failure_bundle(FailedTest(
            item=item, report=report, story=story,
            error=call.excinfo.value if call.excinfo is not None else None,
            started=item.stash.get(_STARTED, None) or ended, ended=ended),
            st.settings.root, st.run_id)
        path = str(bundle.path)
        meta["bundle"] = path
        report.sections.append(("failure bundle", index))
        item.user_properties.append(("failure_bundle", path))  # JUnit reads the teardown copy
        report.user_properties.append(("failure_bundle", path))
        _link_in_html(item.config, report, bundle.path / "README.md")
    attach(report, meta)


def _link_in_html(config: pytest.Config, report: pytest.TestReport, target: Path) -> None:
    html = config.getoption("htmlpath", None)
    if not html:
        return
    with contextlib.suppress(ImportError, ValueError):
        from pytest_html import extras

        rel = os.path.relpath(target, Path(html).resolve().parent)
        vars(report)["extras"] = [*getattr(report, "extras", []),
                                  extras.url(rel, name="failure bundle")]


# -- end of session: hand-off (workers), reports (controller) --------------------------------

def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    st = _session(session.config)
    if st.is_worker:
        _handoff.send_collected(session.config, st.collected)
        return
    if session.config.option.collectonly:
        return
    try:
        _write_reports(st, int(exitstatus))
    except Exception as exc:  # noqa: BLE001 - a report problem must not hide the test results
        st.written, st.error = [], repr(exc)


def _write_reports(st: _Session, exit_status: int) -> None:
    st.flaky.apply(st.book.records)  # a pass on retry is FLAKY, never silently green
    run = _sessions.RunSoFar(merge_records(st.book.records, st.collected),
                             time.monotonic() - st.started, exit_status)
    if os.environ.get(RUN_ENV):  # a run of several sessions: report the whole run
        run = _sessions.add_session(st.run_dir, run)
    matrix = build_matrix(st.catalogue, run.records)
    md, js = write_matrix(matrix, st.run_dir, st.run_id)
    # records.json, the run's lines in history.jsonl and report.html (charts)
    extras, history_md = write_history_outputs(st.settings.root, st.run_dir, st.run_id, run,
                                               st.settings.keep_runs)
    summary = write_summary(st.run_dir / "summary.md", render_summary(
        st.run_id, run.records, matrix, duration_s=run.duration_s,
        exit_status=run.exit_status) + "\n" + history_md)
    st.written = [summary, md, js, *extras]
    publish_latest(st.settings.root / "latest", st.written, st.run_id)
    st.pruned = prune_runs(st.settings.root, st.settings.keep_runs, current=st.run_id)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    st = _session(config)
    if st.is_worker:
        return
    root = st.settings.root
    if st.error:
        terminalreporter.write_line(f"[reports] could not write the run's reports: {st.error}",
                                    red=True)
    if st.written:
        terminalreporter.write_line(
            f"[reports] {st.written[0]} ; traceability: {st.written[1].name}, "
            f"{st.written[2].name} (copied to {root / 'latest'})")
    if st.pruned:
        terminalreporter.write_line(
            f"[reports] removed the artifacts of {len(st.pruned)} older run(s) from {root} "
            f"(keeping the newest {st.settings.keep_runs}; {KEEP_RUNS_ENV}=0 keeps all)")
    for r in st.book.with_bundles():
        terminalreporter.write_line(f"[reports] failure bundle of {r.nodeid}: {r.bundle}")
    for r in st.book.records.values():
        if r.outcome == "flaky":
            terminalreporter.write_line(f"[reports] FLAKY (passed only on retry): {r.nodeid}: "
                                        f"{r.message}", yellow=True)
