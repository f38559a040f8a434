"""Contract fuzzing with schemathesis against the live OpenAPI of the portal and of the
orchestrator's port: each operation is a subtest (schemathesis's own lazy pytest loader,
``from_fixture``, fails on pytest 9: it writes ``Function._nodeid``, which pytest 9 no longer
has; so the lane drives ``APIOperation.as_strategy`` with Hypothesis itself), in positive and
negative generation modes, authenticated as a fresh test customer
(the admin token on admin operations). Checks: no server error, the body conforms to the
documented schema, the status code and content type are documented, and the response
scanner finds nothing. A failure carries a one-line ``curl`` that reproduces it.

Deterministic (fixed seed, no example database); ``E2E_FUZZ_EXAMPLES`` (default 5) bounds
the examples per operation and generation mode: ``E2E_FUZZ_EXAMPLES=200`` for a deep run,
which also turns on schemathesis's coverage phase (boundary values of every parameter).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from _security_lane import ResponseScanner
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from harness.domain import Customer, Endpoints

pytestmark = [pytest.mark.e2e, pytest.mark.security]

EXAMPLES = int(os.environ.get("E2E_FUZZ_EXAMPLES", "5"))
SEED = 20261203
# No example database (a run never depends on an earlier one); shrinking kept: a failure
# reports the smallest request that still fails.
PHASES = [hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _config() -> Any:
    deep = EXAMPLES > 20
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large",
                                  "large_base_example"],
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True,
                       "database": "none"},
        "phases": {"examples": {"enabled": deep}, "coverage": {"enabled": deep},
                   "stateful": {"enabled": False}},
    })


@pytest.fixture
def cases_tried(request: pytest.FixtureRequest, record_figure: Any) -> Iterator[Counter[str]]:
    """Cases sent per operation; the figure goes to the terminal summary."""
    counts: Counter[str] = Counter()
    yield counts
    per_op = ", ".join(f"{label} {n}" for label, n in sorted(counts.items()))
    record_figure(f"fuzz ({request.node.name}): {sum(counts.values())} cases over "
                  f"{len(counts)} operations, E2E_FUZZ_EXAMPLES={EXAMPLES}, seed {SEED}: "
                  f"{per_op}")


def _send(case: Any, headers: dict[str, str], scanner: ResponseScanner,
          counts: Counter[str]) -> None:
    """One case: authenticate it, send it, scan the answer, check it against the schema."""
    case.headers = {**(case.headers or {}), **headers}
    response = case.call(timeout=60)
    counts[case.operation.label] += 1
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


def _fuzz(schema: Any, headers_for: Any, scanner: ResponseScanner, counts: Counter[str],
          subtests: Any, prepare: Any = None) -> None:
    """Every operation of ``schema`` in a subtest of its own, in both generation modes."""
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = headers_for(operation.path)
        with subtests.test(msg=operation.label):
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                run = _cases(operation.as_strategy(mode, headers=headers), headers, scanner,
                             counts, prepare)
                try:
                    run()
                except hypothesis.errors.Unsatisfiable:
                    continue  # no invalid input exists for it (an operation without inputs)


def _cases(strategy: Any, headers: dict[str, str], scanner: ResponseScanner,
           counts: Counter[str], prepare: Any) -> Any:
    @hypothesis.seed(SEED)
    @hypothesis.settings(max_examples=EXAMPLES, database=None, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck), phases=PHASES)
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        if prepare is not None:
            prepare(case)
        _send(case, headers, scanner, counts)

    return run


def test_fuzz_portal(endpoints: Endpoints, test_customer: Customer, scanner: ResponseScanner,
                     cases_tried: Counter[str], subtests: Any) -> None:
    scanner.secrets.add(test_customer.token)
    schema = schemathesis.openapi.from_url(f"{endpoints.portal_url}/openapi.json",
                                           config=_config(), timeout=60)

    def headers_for(path: str) -> dict[str, str]:
        if path.startswith("/admin") or path == "/api/v1/customers":
            return {"X-Admin-Token": endpoints.admin_token}
        return {"Authorization": f"Bearer {test_customer.token}"}

    def prepare(case: Any) -> None:
        # Faults on the shared stack belong to other tests: touch only the fuzz customer's.
        if case.path == "/admin/faults" and case.method.upper() == "DELETE":
            case.query = {**(case.query or {}), "customer_id": test_customer.id}
        if case.path == "/admin/faults" and isinstance(case.body, dict):
            case.body = {**case.body, "customer_id": test_customer.id}

    _fuzz(schema, headers_for, scanner, cases_tried, subtests, prepare)


def test_fuzz_orchestrator_port(endpoints: Endpoints, test_customer: Customer,
                                scanner: ResponseScanner, cases_tried: Counter[str],
                                subtests: Any) -> None:
    scanner.secrets.add(test_customer.token)
    schema = schemathesis.openapi.from_url(f"{endpoints.orchestrator_url}/openapi.json",
                                           config=_config(), timeout=60)
    headers = {"X-Admin-Token": endpoints.admin_token, "X-Customer-Id": test_customer.id}
    _fuzz(schema, lambda _path: headers, scanner, cases_tried, subtests)
