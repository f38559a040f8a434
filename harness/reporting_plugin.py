"""pytest hooks for reports a reader who was not there can follow (loaded by harness.plugin).

- **Failure bundle** per failing test (a failed call, or a failed setup of an ``e2e`` test),
  written in the process that ran it (an xdist worker) while its fixtures are still alive:
  ``artifacts/<run>/<test>/`` with the story and failed phase, the error, ``compose ps`` with
  health, every service's log since the test started, the test's HTTP exchanges and WebSocket
  timeline, and snapshots of what its customer owns in each store; a failed ``up`` adds its
  diagnosis. The path goes into the report (a "failure bundle" section, the ``failure_bundle``
  JUnit property and, with pytest-html, a link). Secrets are masked in every file.
- **Traceability**: ``@pytest.mark.req("REQ-SPOT-01", ...)`` names the requirements a test
  checks; ids must be in ``requirements.toml`` at the rootdir (else a collection error).
- **End of run** (controller only): ``artifacts/<run>/traceability.md|json`` and
  ``summary.md``, copied to ``artifacts/latest/``. Workers' per-test data travels to the
  controller on the reports (``report.e2e``, plain data that xdist serialises).

The run id is ``<UTC timestamp>-<E2E_SESSION_ID>``; the controller fixes the timestamp in
``E2E_ARTIFACTS_STAMP`` so workers, which inherit it, write into the same folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Generator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.core._bundle import (
    Bundle,
    BundleWriter,
    mask_text,
    prune_runs,
    run_id,
    utc_stamp,
)
from harness.core._exceptions import ConfigError, PortConflictError, StackStartError
from harness.core._summary import render_summary, write_summary
from harness.core._traceability import (
    Catalogue,
    PhaseTiming,
    TestRecord,
    build_matrix,
    combine_sessions,
    merge_records,
    record_from_dict,
    write_matrix,
)
from harness.domain import Endpoints
from harness.domain._snapshots import StoreClients, snapshot_customer

REQ_MARKER = "req"
CATALOGUE_FILE = "requirements.toml"
STAMP_ENV = "E2E_ARTIFACTS_STAMP"
ARTIFACTS_ENV = "E2E_ARTIFACTS_DIR"
NO_BUNDLE_ENV = "E2E_NO_BUNDLE"
RUN_ENV = "E2E_RUN_ID"  # several pytest sessions of one run share its folder and reports
SESSIONS_FILE = ".sessions.json"  # what the earlier sessions of the run recorded
KEEP_RUNS_ENV = "E2E_KEEP_RUNS"
DEFAULT_KEEP_RUNS = 20  # nightly jobs on one machine must not fill its disk
REPORT_FILES = ("summary.md", "traceability.md", "traceability.json")
_LOG_MARGIN = timedelta(seconds=1)  # docker's --since and our clock may disagree a little


class _RunState:
    """What one pytest process knows about this run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        option = config.getoption("artifacts_dir", None) or os.environ.get(ARTIFACTS_ENV)
        root = Path(option or "artifacts")
        self.root = root if root.is_absolute() else config.invocation_params.dir / root
        self.bundles = not (config.getoption("no_bundle", False)
                            or os.environ.get(NO_BUNDLE_ENV, "") not in ("", "0"))
        try:
            self.catalogue = Catalogue.load(config.rootpath / CATALOGUE_FILE)
            self.keep_runs = _keep_runs()
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from exc
        self.records: dict[str, TestRecord] = {}
        self.collected: dict[str, list[str]] = {}
        self.started = time.monotonic()
        self.written: list[Path] = []
        self.pruned: list[Path] = []
        self.bundle_count = 0
        self._run_id: str | None = None

    @property
    def run_id(self) -> str:
        # Fixed at session start, not at configure: harness.plugin sets E2E_SESSION_ID after
        # this plugin is configured. Later changes to the environment do not move the run.
        if self._run_id is None:
            self._run_id = os.environ.get(RUN_ENV) or run_id(
                os.environ.get(STAMP_ENV) or utc_stamp(),
                os.environ.get("E2E_SESSION_ID", "nosession"))
        return self._run_id

    @property
    def run_dir(self) -> Path:
        return self.root / self.run_id


_STATE = pytest.StashKey[_RunState]()
_STARTED = pytest.StashKey[datetime]()


def _state(config: pytest.Config) -> _RunState:
    return config.stash[_STATE]


# -- options, marker, run id ----------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("optiinfra-e2e", "OptiInfra E2E stack")
    group.addoption("--artifacts-dir", default=None, metavar="DIR",
                    help=f"where failure bundles, summary.md and traceability.* go "
                         f"(default: ${ARTIFACTS_ENV} or 'artifacts'; one folder per run)")
    group.addoption("--no-bundle", action="store_true", default=False,
                    help=f"write no failure bundles (also ${NO_BUNDLE_ENV}=1); "
                         f"the summary and traceability matrix are still written")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{REQ_MARKER}(*ids): the requirements this test checks (ids from "
                   f"{CATALOGUE_FILE}); collected into artifacts/<run>/traceability.md")
    if not hasattr(config, "workerinput"):
        os.environ.setdefault(STAMP_ENV, utc_stamp())
    st = config.stash[_STATE] = _RunState(config)
    # Every report of the session (worker reports arrive on the controller) becomes a record.
    config.pluginmanager.register(_Collector(st), f"e2e-reporting-collector-{id(st)}")


# -- collection: requirement ids --------------------------------------------------------------

def requirements_of(item: pytest.Item) -> list[str]:
    """The requirement ids of every ``req`` marker on the item (closest first), deduplicated."""
    ids: list[str] = []
    for mark in item.iter_markers(REQ_MARKER):
        if not mark.args or not all(isinstance(a, str) and a for a in mark.args):
            raise pytest.Collector.CollectError(
                f"{item.nodeid}: @pytest.mark.{REQ_MARKER} takes requirement ids as strings, "
                f"e.g. @pytest.mark.{REQ_MARKER}(\"REQ-SPOT-01\"); got {mark.args!r}")
        ids += [a for a in mark.args if a not in ids]
    return ids


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object
                              ) -> Generator[None, Any, Any]:
    result = yield
    items = result if isinstance(result, list) else [result]
    catalogue = _state(collector.config).catalogue
    for item in items:
        if isinstance(item, pytest.Item):
            unknown = catalogue.unknown(requirements_of(item))
            if unknown:
                known = ", ".join(list(catalogue.requirements)[:5])
                raise pytest.Collector.CollectError(
                    f"{item.nodeid}: unknown requirement id(s) {', '.join(unknown)} in "
                    f"@pytest.mark.{REQ_MARKER}: {catalogue.source} lists {len(catalogue)} "
                    f"requirements ({known}, ...). Add the id there, or fix the marker.")
    return result


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    st = _state(config)
    for item in items:
        st.collected[item.nodeid] = requirements_of(item)


def pytest_deselected(items: list[pytest.Item]) -> None:
    # Deselected tests still say which requirements have a test (shown as "not run").
    for item in items:
        _state(item.config).collected[item.nodeid] = requirements_of(item)


def pytest_collection_finish(session: pytest.Session) -> None:
    st = _state(session.config)
    if st.is_worker and not session.config.option.collectonly:
        # The controller of an xdist run collects nothing itself: hand it what we saw.
        worker = session.config.workerinput["workerid"]  # type: ignore[attr-defined]
        target = st.run_dir / ".collected" / f"{worker}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(st.collected))


# -- per test: start time, bundle on failure, data for the controller -------------------------

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


def _narrative(item: pytest.Item) -> Any:
    from harness.plugin import NARRATIVE_KEY  # harness.plugin imports this module

    return item.stash.get(NARRATIVE_KEY, None)


def _annotate(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
              ) -> None:
    st = _state(item.config)
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
    if wants_bundle and st.bundles:
        bundle, index = write_bundle(item, call, report, st)
        st.bundle_count += 1
        path = str(bundle.path)
        meta["bundle"] = path
        report.sections.append(("failure bundle", index))
        item.user_properties.append(("failure_bundle", path))  # JUnit reads the teardown copy
        report.user_properties.append(("failure_bundle", path))
        _link_in_html(item.config, report, bundle.path / "README.md")
    report.e2e = meta  # type: ignore[attr-defined]  # plain data: xdist ships it


def _link_in_html(config: pytest.Config, report: pytest.TestReport, target: Path) -> None:
    html = config.getoption("htmlpath", None)
    if not html:
        return
    with contextlib.suppress(ImportError, ValueError):
        from pytest_html import extras

        rel = os.path.relpath(target, Path(html).resolve().parent)
        report.extras = [*getattr(report, "extras", []),  # type: ignore[attr-defined]
                         extras.url(rel, name="failure bundle")]


def store_clients(item: pytest.Item) -> StoreClients | None:
    """Clients for the customer's snapshots (a seam: tests replace this function)."""
    ep = item.funcargs.get("endpoints")  # type: ignore[attr-defined]
    stack = item.funcargs.get("stack")  # type: ignore[attr-defined]
    if ep is None and stack is not None and hasattr(stack, "config"):
        ep = Endpoints.from_config(stack.config)
    return StoreClients.for_endpoints(ep) if isinstance(ep, Endpoints) else None


def _secrets(funcargs: dict[str, Any]) -> list[str]:
    found = [os.environ.get("E2E_ADMIN_TOKEN", "")]
    customer = funcargs.get("test_customer")
    found += [getattr(customer, "token", ""), getattr(getattr(customer, "client", None),
                                                      "token", "")]
    for name in ("api_client", "endpoints"):
        obj = funcargs.get(name)
        found += [getattr(obj, "token", ""), getattr(obj, "admin_token", "")]
    return [s for s in found if isinstance(s, str) and s]


def _headline(report: pytest.TestReport, story: Any, exc: BaseException | None) -> str:
    message = _first_line(report)
    if exc is not None:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()][:2]
        message = f"{type(exc).__name__}: {' / '.join(lines)}"[:400]
    if isinstance(exc, PortConflictError):
        return f"ERROR in setup: the stack could not start, host ports taken: {message}"
    if isinstance(exc, StackStartError):
        names = ", ".join(s.name for s in getattr(exc, "services", [])) or "see startup.md"
        return f"ERROR in setup: the stack '{exc.project}' did not start ({names})"
    failed = story.failed_phase if story is not None else None
    if failed is not None:
        return f"FAILED in PHASE {failed.number}: {failed.title}: {failed.error}"
    if report.when == "setup":
        return f"ERROR in setup (a fixture failed): {message}"
    after = f" (after PHASE {story.phases[-1].number})" if story is not None and story.phases \
        else ""
    return f"FAILED outside any phase{after}: {message}"


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None)
    if text is None:
        longrepr = report.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr or "")
    lines = [ln for ln in str(text).splitlines() if ln.strip()]
    return lines[0][:300] if lines else ""


def write_bundle(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport,
                 st: _RunState) -> tuple[Bundle, str]:
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    ended = datetime.now(UTC)
    started = item.stash.get(_STARTED, None) or ended
    bundle = BundleWriter(st.root, st.run_id, secrets=_secrets(funcargs)).bundle(item.nodeid)
    story = _narrative(item)
    exc = call.excinfo.value if call.excinfo is not None else None
    details: list[str] = [f"- when: {report.when}; window: {started.isoformat()} to "
                          f"{ended.isoformat()}"]

    bundle.attempt("story", lambda: bundle.story(story))
    bundle.attempt("error", lambda: bundle.error(report.longreprtext))
    bundle.attempt("context", lambda: bundle.json("context.json", {
        "nodeid": item.nodeid, "when": report.when, "run_id": st.run_id,
        "window": {"start": started, "end": ended},
        "requirements": requirements_of(item),
        "markers": sorted({m.name for m in item.iter_markers()}),
        "fixtures": sorted(funcargs),
        "environment": {k: v for k, v in sorted(os.environ.items()) if k.startswith("E2E_")},
    }, "test id, time window, markers, fixtures, E2E_* settings"))
    captured = [(name, text) for name, text in report.sections if text.strip()]
    if captured:
        bundle.attempt("captured output", lambda: bundle.text("captured.txt", "".join(
            f"----- {name} -----\n{text.rstrip()}\n\n" for name, text in captured),
            "what the test printed and logged"))

    if isinstance(exc, StackStartError | PortConflictError):
        diagnosis = bundle.startup_failure(exc)
        report.sections.append(("startup diagnosis", diagnosis))
        details.append("- the stack did not start: read startup.md first")

    stack = funcargs.get("stack")
    if stack is not None:
        _stack_pieces(bundle, stack, started - _LOG_MARGIN, ended + _LOG_MARGIN)

    _exchange_pieces(bundle, funcargs, started)
    ws = funcargs.get("ws_client")
    if ws is not None:
        bundle.attempt("websocket timeline", lambda: bundle.text(
            "ws_timeline.txt", ws.timeline() + "\n", "WebSocket events in arrival order"))
        if hasattr(ws, "snapshot"):
            bundle.attempt("websocket events", lambda: bundle.json(
                "ws_events.json", ws.snapshot(), "the same events, in full"))

    customer = funcargs.get("test_customer")
    if customer is not None:
        details.append(f"- customer: {customer.id}")
        _snapshot_pieces(bundle, item, customer.id)

    return bundle, bundle.finish(_headline(report, story, exc), details)


def _stack_pieces(bundle: Bundle, stack: Any, since: datetime, until: datetime) -> None:
    services: list[str] = []

    def status() -> None:
        st = stack.status()
        bundle.status(st)
        services.extend(s.name for s in st.services if s.state != "missing")

    if not bundle.attempt("compose ps", status):
        with contextlib.suppress(Exception):
            services.extend(stack.services())

    def logs() -> None:
        texts: dict[str, str] = {}
        for name in services:
            try:
                texts[name] = _until(stack.logs(name, since=since), until)
            except Exception as exc:  # noqa: BLE001 - one service's log is not all of them
                texts[name] = f"(could not read the log of '{name}': {exc})\n"
        bundle.logs(texts, since=since, until=until)

    bundle.attempt("service logs", logs)


_TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def _until(text: str, until: datetime) -> str:
    """Drop the lines docker stamped after ``until`` (the bundle is written a bit later)."""
    cut = until.strftime("%Y-%m-%dT%H:%M:%S")
    return "".join(line for line in text.splitlines(keepends=True)
                   if not _TIMESTAMPED.match(line) or line[:19] <= cut)


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    return dict(vars(obj))


def _exchange_pieces(bundle: Bundle, funcargs: dict[str, Any], started: datetime) -> None:
    lists: dict[int, list[Any]] = {}
    for owner in (funcargs.get("api_client"),
                  getattr(funcargs.get("test_customer"), "client", None)):
        exchanges = getattr(owner, "exchanges", None)
        if isinstance(exchanges, list):
            lists[id(exchanges)] = exchanges  # a customer's client shares api_client's list
    if not lists:
        return

    def write() -> None:
        rows = sorted((_as_dict(x) for xs in lists.values() for x in xs),
                      key=lambda x: x.get("at") or 0)
        t0 = started.timestamp()
        lines = []
        for x in rows:
            at = x.get("at")
            rel = f"t+{at - t0:7.2f}s" if isinstance(at, int | float) else "t+      ?"
            ms = x.get("elapsed_ms")
            took = f" ({ms:.0f} ms)" if isinstance(ms, int | float) else ""
            lines.append(f"{rel}  {x.get('method')} {x.get('url')} -> "
                         f"{x.get('status') or 'no answer'}{took}")
        bundle.text("http_exchanges.txt", "\n".join(lines) + "\n",
                    f"{len(rows)} HTTP calls: method, URL, status")
        bundle.json("http_exchanges.json", rows, "the same with request and response bodies")

    bundle.attempt("HTTP exchanges", write)


def _snapshot_pieces(bundle: Bundle, item: pytest.Item, customer_id: str) -> None:
    def write() -> None:
        clients = store_clients(item)
        if clients is None:
            bundle.text("snapshots/README.txt", "No stack endpoints in this test's fixtures: "
                        "no store snapshots.\n", "why there are no store snapshots")
            return
        snap = snapshot_customer(customer_id, clients)
        for part in snap.stores:
            bundle.json(f"snapshots/{part.store}.json", part,
                        f"the customer in {part.store}: "
                        + (f"ERROR {part.error[:80]}" if part.error
                           else str(part.data.get("summary", ""))[:100]))

    bundle.attempt("store snapshots", write)


# -- the controller: collect records, write matrix and summary ------------------------------

class _Collector:
    """Turns every report of the session into a TestRecord (on the controller under xdist)."""

    def __init__(self, st: _RunState) -> None:
        self.st = st

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.st.started = time.monotonic()
        _ = self.st.run_id  # fix the run id now

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rec = self.st.records.setdefault(report.nodeid,
                                         TestRecord(nodeid=report.nodeid, outcome="not run"))
        meta = getattr(report, "e2e", None) or {}
        if meta.get("requirements"):
            rec.requirements = list(meta["requirements"])
        if meta.get("phases"):
            rec.phases = [PhaseTiming(**p) for p in meta["phases"]]
        rec.failed_phase = meta.get("failed_phase") or rec.failed_phase
        rec.bundle = meta.get("bundle") or rec.bundle
        rec.duration_s += report.duration
        outcome = _outcome(report)
        if report.when == "teardown":
            if outcome == "error" and rec.outcome != "failed":
                rec.outcome = "error"  # a failed test whose teardown also failed stays failed
        elif outcome is not None:
            rec.outcome = outcome
        if report.failed or (report.skipped and report.when != "teardown"):
            rec.message = rec.message or mask_text(_first_line(report))


def _outcome(report: pytest.TestReport) -> str | None:
    xfail = hasattr(report, "wasxfail")
    if report.when == "setup":
        if report.failed:
            return "error"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "passed"
    if report.when == "call":
        if report.failed:
            return "failed"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "xpassed" if xfail else "passed"
    return "error" if report.failed else None


def _known_tests(st: _RunState) -> dict[str, list[str]]:
    known = dict(st.collected)
    folder = st.run_dir / ".collected"
    if folder.is_dir():
        for f in sorted(folder.glob("*.json")):
            with contextlib.suppress(ValueError, OSError):
                known.update(json.loads(f.read_text()))
        shutil.rmtree(folder, ignore_errors=True)
    return known


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    st = _state(session.config)
    if st.is_worker or session.config.option.collectonly:
        return
    try:
        records = merge_records(st.records, _known_tests(st))
        duration, status = time.monotonic() - st.started, int(exitstatus)
        if os.environ.get(RUN_ENV):  # a run of several sessions: report the whole run
            earlier = _earlier_sessions(st.run_dir)
            if earlier is not None:
                records = combine_sessions(earlier["records"], records)
                duration += earlier["duration_s"]
                status = _combined_status(earlier["exit_status"], status)
            _save_sessions(st.run_dir, records, duration, status)
        matrix = build_matrix(st.catalogue, records)
        md, js = write_matrix(matrix, st.run_dir, st.run_id)
        summary = write_summary(st.run_dir / "summary.md", render_summary(
            st.run_id, records, matrix, duration_s=duration, exit_status=status))
        st.written = [summary, md, js]
        _publish_latest(st.root / "latest", st.written, st.run_id)
        st.pruned = prune_runs(st.root, st.keep_runs, current=st.run_id)
    except Exception as exc:  # noqa: BLE001 - a report problem must not hide the test results
        st.written = []
        session.config.stash[_ERROR] = repr(exc)


_ERROR = pytest.StashKey[str]()


def _earlier_sessions(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / SESSIONS_FILE).read_text())
        return {"records": [record_from_dict(r) for r in data["records"]],
                "duration_s": float(data["duration_s"]), "exit_status": int(data["exit_status"])}
    except FileNotFoundError:
        return None


def _save_sessions(run_dir: Path, records: list[TestRecord], duration_s: float,
                   status: int) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / SESSIONS_FILE).write_text(json.dumps({
        "records": [asdict(r) for r in records], "duration_s": duration_s,
        "exit_status": status}))


def _combined_status(earlier: int, latest: int) -> int:
    """A failure in any session fails the run; 'no tests collected' (5) only if all say so."""
    for status in (earlier, latest):
        if status not in (0, 5):
            return status
    return 5 if earlier == latest == 5 else 0


def _keep_runs() -> int:
    raw = os.environ.get(KEEP_RUNS_ENV, "")
    try:
        return int(raw) if raw.strip() else DEFAULT_KEEP_RUNS
    except ValueError:
        raise ConfigError(f"{KEEP_RUNS_ENV}={raw!r} is not a whole number (how many runs' "
                          f"artifacts to keep; 0 keeps all)") from None


def _publish_latest(latest: Path, files: list[Path], rid: str) -> None:
    latest.mkdir(parents=True, exist_ok=True)
    for f in files:
        tmp = latest / f".{f.name}.tmp{os.getpid()}"
        shutil.copyfile(f, tmp)
        os.replace(tmp, latest / f.name)  # atomic: a reader never sees half a file
    (latest / "RUN_ID").write_text(rid + "\n")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    st = _state(config)
    if st.is_worker:
        return
    if _ERROR in config.stash:
        terminalreporter.write_line(f"[reports] could not write the run's reports: "
                                    f"{config.stash[_ERROR]}", red=True)
    if st.written:
        terminalreporter.write_line(
            f"[reports] {st.written[0]} ; traceability: {st.written[1].name}, "
            f"{st.written[2].name} (copied to {st.root / 'latest'})")
    if st.pruned:
        terminalreporter.write_line(
            f"[reports] removed the artifacts of {len(st.pruned)} older run(s) from {st.root} "
            f"(keeping the newest {st.keep_runs}; {KEEP_RUNS_ENV}=0 keeps all)")
    bundles = [r for r in st.records.values() if r.bundle]
    for r in bundles:
        terminalreporter.write_line(f"[reports] failure bundle of {r.nodeid}: {r.bundle}")
