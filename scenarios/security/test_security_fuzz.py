"""Contract fuzzing with schemathesis against the live OpenAPI of the portal and of the
orchestrator's port, one pytest item per operation (so each failure gets its own failure
bundle), in positive and negative generation modes, authenticated as a test customer (the
admin token on admin operations). Checks: no server error, the body conforms to the
documented schema, the status code and content type are documented, and the response
scanner finds nothing. A failure carries a one-line ``curl`` that reproduces it.

The operations are read at collection from the services' own FastAPI apps, in-process (no
Docker at collection), because schemathesis' lazy pytest loader (``from_fixture``) fails on
pytest 9 (it writes ``Function._nodeid``, which pytest 9 no longer has; 4.32.5 is the newest
release). ``test_the_live_openapi_lists_exactly_the_collected_operations`` holds the
collection to the live documents, so a route is never silently left out.

Deterministic (fixed seed, no example database); ``E2E_FUZZ_EXAMPLES`` (default 5) bounds
the generated cases per operation and generation mode (positive, negative):
``E2E_FUZZ_EXAMPLES=200`` for a deep run, which also sends the schema's examples and
schemathesis's coverage phase (boundary values and each constraint broken once). Cases are
built by schemathesis' own Hypothesis test builder (``create_test``: an internal API, hence
the exact pin in requirements-test.txt).
The stateful phase (links followed) is ``test_security_stateful.py``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from _security_lane import (
    CHECKS,
    EXAMPLES,
    SEED,
    ResponseScanner,
    collected_operations,
    fetch_spec,
    operations,
)
from schemathesis import GenerationMode
from schemathesis.generation.hypothesis.builder import (
    HypothesisTestConfig,
    HypothesisTestMode,
    create_test,
)
from schemathesis.generation.overrides import Override

from harness.domain import Endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.security]

# No example database (a run never depends on an earlier one); shrinking kept: a failure
# reports the smallest request that still fails.
PHASES = [hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink]
DEEP = EXAMPLES > 20


def _config() -> Any:
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large",
                                  "large_base_example"],
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True,
                       "database": "none"},
        "phases": {"examples": {"enabled": DEEP}, "coverage": {"enabled": DEEP},
                   "stateful": {"enabled": False}},
    })



# (service, method, path) of every operation, from the in-process apps at collection.
OPERATIONS = collected_operations()


@dataclass(frozen=True)
class FuzzCustomer:
    id: str
    token: str


@pytest.fixture(scope="module")
def fuzz_customer(endpoints: Endpoints) -> FuzzCustomer:
    """One customer per worker for every operation (it owns no instances)."""
    r = httpx.post(f"{endpoints.portal_url}/api/v1/customers", json={"name": "sec-fuzz"},
                   headers={"X-Admin-Token": endpoints.admin_token}, timeout=30)
    assert r.status_code == 201, f"creating the fuzz customer: {r.status_code} {r.text[:300]}"
    return FuzzCustomer(r.json()["id"], r.json()["api_token"])


@pytest.fixture(scope="module")
def live_schemas(endpoints: Endpoints) -> dict[str, Any]:
    """schemathesis' view of each service's live document, loaded once per worker."""
    return {service: schemathesis.openapi.from_url(f"{url}/openapi.json", config=_config(),
                                                   timeout=60)
            for service, url in (("portal", endpoints.portal_url),
                                 ("orchestrator", endpoints.orchestrator_url))}


def _headers(service: str, path: str, endpoints: Endpoints, who: FuzzCustomer) -> dict[str, str]:
    if service == "orchestrator":
        return {"X-Admin-Token": endpoints.admin_token, "X-Customer-Id": who.id}
    if path.startswith("/admin") or path == "/api/v1/customers":
        return {"X-Admin-Token": endpoints.admin_token}
    return {"Authorization": f"Bearer {who.token}"}


def _prepare(case: Any, who: FuzzCustomer) -> None:
    # Faults on the shared stack belong to other tests: touch only the fuzz customer's.
    if case.path == "/admin/faults" and case.method.upper() == "DELETE":
        case.query = {**(case.query or {}), "customer_id": who.id}
    if case.path == "/admin/faults" and isinstance(case.body, dict):
        case.body = {**case.body, "customer_id": who.id}


@pytest.mark.parametrize(("service", "method", "path"), OPERATIONS,
                         ids=[f"{s}-{m}-{p}" for s, m, p in OPERATIONS])
def test_fuzz(service: str, method: str, path: str, endpoints: Endpoints,
              fuzz_customer: FuzzCustomer, live_schemas: dict[str, Any],
              scanner: ResponseScanner, record_figure: Any) -> None:
    scanner.secrets.add(fuzz_customer.token)
    try:
        operation = live_schemas[service][path][method]
    except KeyError:
        pytest.fail(f"the live {service} has no {method} {path}, which its code declares: "
                    "is the stack running this tree's images? (make images)")
    headers = _headers(service, path, endpoints, fuzz_customer)
    counts: Counter[str] = Counter()
    try:
        _cases(operation, headers, scanner, counts, lambda case: _prepare(case, fuzz_customer))
    finally:
        by_kind = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        record_figure(f"fuzz {service} {method} {path}: {sum(counts.values())} cases "
                      f"({by_kind}), E2E_FUZZ_EXAMPLES={EXAMPLES}, seed {SEED}")


def test_the_live_openapi_lists_exactly_the_collected_operations(endpoints: Endpoints) -> None:
    """The fuzz items come from the code; the live documents must list the same operations,
    or a route would go unfuzzed (or an item fuzz a route the stack does not serve)."""
    live = {(service, op.method, op.path)
            for service, url in (("portal", endpoints.portal_url),
                                 ("orchestrator", endpoints.orchestrator_url))
            for op in operations(fetch_spec(url))}
    collected = set(OPERATIONS)
    assert live == collected, (
        f"served but never fuzzed: {sorted(live - collected)}; "
        f"fuzzed but not served: {sorted(collected - live)}")


def _send(case: Any, headers: dict[str, str], scanner: ResponseScanner) -> None:
    """One case: authenticate it, send it, scan the answer, check it against the schema."""
    case.headers = {**(case.headers or {}), **headers}
    response = case.call(timeout=60)
    request = response.request
    sent = request.body or b""
    found = scanner.scan(case.method.upper(), str(request.url), response.status_code,
                         response.text, sent if isinstance(sent, bytes) else sent.encode(),
                         [str(v) for v in (case.query or {}).values()], case.path)
    if found:
        raise AssertionError("response scanner:\n" + "\n".join(map(str, found))
                             + "\n\nReproduce with:\n\n    "
                             + case.as_curl_command(headers=dict(request.headers)))
    case.validate_response(response, checks=CHECKS)


def _cases(operation: Any, headers: dict[str, str], scanner: ResponseScanner,
           counts: Counter[str], prepare: Any) -> None:
    """Positive then negative generated cases (``EXAMPLES`` each); in a deep run first the
    schema's examples and schemathesis' coverage phase, through its own Hypothesis test
    builder. Each case is sent by ``_send``."""

    def check(case: Any) -> None:
        prepare(case)
        meta = case.meta
        counts[f"{meta.phase.name.value} {meta.generation.mode.value}" if meta else "?"] += 1
        _send(case, headers, scanner)

    settings = hypothesis.settings(max_examples=EXAMPLES, database=None, deadline=None,
                                   suppress_health_check=list(hypothesis.HealthCheck),
                                   phases=PHASES)
    if DEEP:
        create_test(operation=operation, test_func=check, config=HypothesisTestConfig(
            project=operation.schema.config, seed=SEED, override=Override(headers=headers),
            modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE],
            settings=settings))()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        run = hypothesis.seed(SEED)(settings(hypothesis.given(
            case=operation.as_strategy(mode, headers=headers))(check)))
        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            continue  # no invalid input exists for it (an operation without inputs)
