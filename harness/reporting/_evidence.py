"""What goes into a failing test's bundle, gathered from its fixtures while they are alive.

The story and failed phase, the error, the test's context, what it printed, ``compose ps``
with health and each service's log over the test's window (``stack``), its HTTP exchanges
(``api_client``, the customer's client), its WebSocket timeline (``ws_client``), and what its
customer owns in each store (``test_customer``). A failed ``up`` adds its diagnosis. Each
piece is attempted on its own: one that cannot be gathered is noted, never fatal.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.core import Narrative, PortConflictError, StackStartError
from harness.domain import Endpoints, StoreClients, snapshot_customer

from ._bundle import Bundle, BundleWriter
from ._markers import requirements_of
from ._records import first_line

LOG_MARGIN = timedelta(seconds=1)  # docker's --since and our clock may disagree a little


@dataclass(frozen=True)
class FailedTest:
    """One failing phase of a test, as the bundle sees it."""

    item: pytest.Item
    report: pytest.TestReport
    error: BaseException | None
    story: Narrative | None
    started: datetime
    ended: datetime

    @property
    def funcargs(self) -> dict[str, Any]:
        return self.item.funcargs if isinstance(self.item, pytest.Function) else {}


def store_clients(item: pytest.Item) -> StoreClients | None:
    """Clients for the customer's snapshots (a seam: tests replace this function)."""
    funcargs = item.funcargs if isinstance(item, pytest.Function) else {}
    ep = funcargs.get("endpoints")
    stack = funcargs.get("stack")
    if ep is None and stack is not None and hasattr(stack, "config"):
        ep = Endpoints.from_config(stack.config)
    return StoreClients.for_endpoints(ep) if isinstance(ep, Endpoints) else None


def write_failure_bundle(test: FailedTest, root: Path, run_id: str) -> tuple[Bundle, str]:
    """Write the bundle under ``root/run_id``; return it and its short index for the report."""
    item, report, funcargs = test.item, test.report, test.funcargs
    bundle = BundleWriter(root, run_id, secrets=secrets_in(funcargs)).bundle(item.nodeid)
    details = [f"- when: {report.when}; window: {test.started.isoformat()} to "
               f"{test.ended.isoformat()}"]

    bundle.attempt("story", lambda: bundle.story(test.story))
    bundle.attempt("error", lambda: bundle.error(report.longreprtext))
    bundle.attempt("context", lambda: bundle.json("context.json", {
        "nodeid": item.nodeid, "when": report.when, "run_id": run_id,
        "window": {"start": test.started, "end": test.ended},
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

    if isinstance(test.error, StackStartError | PortConflictError):
        diagnosis = bundle.startup_failure(test.error)
        report.sections.append(("startup diagnosis", diagnosis))
        details.append("- the stack did not start: read startup.md first")

    stack = funcargs.get("stack")
    if stack is not None:
        _stack_pieces(bundle, stack, test.started - LOG_MARGIN, test.ended + LOG_MARGIN)

    _exchange_pieces(bundle, funcargs, test.started)
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

    return bundle, bundle.finish(headline(test), details)


def secrets_in(funcargs: Mapping[str, Any]) -> list[str]:
    """The exact secrets a test's fixtures hold: masked in every file of its bundle."""
    found = [os.environ.get("E2E_ADMIN_TOKEN", "")]
    customer = funcargs.get("test_customer")
    found += [getattr(customer, "token", ""), getattr(getattr(customer, "client", None),
                                                      "token", "")]
    for name in ("api_client", "endpoints"):
        obj = funcargs.get(name)
        found += [getattr(obj, "token", ""), getattr(obj, "admin_token", "")]
    return [s for s in found if isinstance(s, str) and s]


def headline(test: FailedTest) -> str:
    """One line: where and why it failed (the bundle's README starts with it)."""
    report, story, exc = test.report, test.story, test.error
    message = first_line(report)
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


def _exchange_pieces(bundle: Bundle, funcargs: Mapping[str, Any], started: datetime) -> None:
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
