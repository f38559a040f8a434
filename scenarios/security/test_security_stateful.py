"""Stateful contract fuzzing: schemathesis' state machine walks the portal's OpenAPI links
(customer -> discovery -> analysis -> recommendation -> approval -> optimization; see
docs/api.md, "Links") on the live stack, each step fed the ids the previous answer gave.
A bug that only an id produced a step earlier reaches (a 500 on a real analysis, a
recommendation whose answer breaks its schema) is found here, not by the per-operation
fuzzing, whose ids are random.

Checks on every step: no server error, status code, content type and body as documented,
and the response scanner. A failure names the chain of steps that led to it and carries a
one-line ``curl`` of the failing step. Deterministic seed; ``E2E_FUZZ_EXAMPLES`` (default 5)
bounds it: twice as many scenarios, each of up to 8 steps (15 above 20).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from _security_lane import CHECKS, EXAMPLES, SEED, ResponseScanner
from _tenants import TENANT_FLEET
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation

from harness.core import phase, say
from harness.domain import Customer, Endpoints, Fleet, FleetSpec, wait_for_recommendation

pytestmark = [pytest.mark.e2e, pytest.mark.security]

SCENARIOS = 2 * EXAMPLES
STEPS = 15 if EXAMPLES > 20 else 8
AUTH = (ParameterLocation.HEADER, "Authorization")


@pytest.fixture
def fleet_spec() -> FleetSpec:
    return TENANT_FLEET  # its spot migration validates within seconds


@dataclass
class Walk:
    """What the machine did, across its scenarios: every step, the chain behind it."""

    steps: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    links: Counter[str] = field(default_factory=Counter)  # links followed, answered 2xx
    chains: dict[str, list[str]] = field(default_factory=dict)  # case id -> steps to it
    deepest: list[str] = field(default_factory=list)
    failure: str = ""  # the first failure, as told to the tester


def _machine(schema: Any, token: str, admin: str, scanner: ResponseScanner,
             walk: Walk) -> Any:
    base = schema.as_state_machine()

    class PortalWorkflow(base):  # type: ignore[misc, valid-type]
        def step(self, input: Any) -> Any:
            case = input.case
            headers = dict(case.headers or {})
            if case.operation.path == "/api/v1/customers":
                headers["X-Admin-Token"] = admin
            elif AUTH not in input.applied_parameters:
                # Unless a link gave it (a new customer's token): the walk's customer.
                headers["Authorization"] = f"Bearer {token}"
            case.headers = headers
            # a transition's id: "<source> -> [<status>] <link name> -> <target>"
            via = input.transition.id.split("] ")[1].split(" -> ")[0] \
                if input.transition else "start"
            parent = walk.chains.get(input.transition.parent_id, []) if input.transition \
                else []
            self._label = f"{case.operation.label} (via {via})"
            walk.chains[case.id] = [*parent, self._label]
            try:
                return super().step(input)
            except Exception as e:  # any error of a step (transport too) is kept, then raised
                walk.failure = walk.failure or (
                    f"stateful step {len(walk.chains[case.id])} of a walk along the links "
                    f"failed\n{_story(walk.chains[case.id])}\n\n{type(e).__name__}: {e}")
                raise

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            # schemathesis' own default is 10 s: a discover under 4 workers of fuzzing on
            # 2 cores took longer once; a timeout is not an answer to check (as in the fuzz test)
            return {"timeout": 60}

        def validate_response(self, response: Any, case: Any,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            walk.steps += 1
            walk.statuses[response.status_code] += 1
            chain = walk.chains[case.id]
            if 200 <= response.status_code < 300:
                if len(chain) > 1:
                    walk.links[chain[-1].split("(via ")[1].rstrip(")")] += 1
                if len(chain) > len(walk.deepest):
                    walk.deepest = chain
            request = response.request
            sent = request.body or b""
            found = scanner.scan(case.method.upper(), str(request.url), response.status_code,
                                 response.text, sent if isinstance(sent, bytes)
                                 else sent.encode(),
                                 [str(v) for v in (case.query or {}).values()], case.path)
            story = _story(chain)
            if found:
                walk.failure = walk.failure or (
                    "response scanner:\n" + "\n".join(map(str, found)) + f"\n\n{story}\n\n"
                    "Reproduce the last step with:\n\n    "
                    + case.as_curl_command(headers=dict(request.headers)))
                raise AssertionError(walk.failure)
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None,
                                       recorder=self.recorder)
            except FailureGroup as e:  # told as a walk: the steps, then schemathesis' report
                walk.failure = walk.failure or (
                    f"stateful step {len(chain)} of a walk along the links failed\n{story}\n\n{e}")
                raise AssertionError(walk.failure) from e

    return hypothesis.seed(SEED)(PortalWorkflow)


def _story(chain: list[str]) -> str:
    return "the steps that led here:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(chain, 1))


def test_stateful_fuzz_follows_the_links(endpoints: Endpoints, test_customer: Customer,
                                         test_infrastructure: Fleet, scanner: ResponseScanner,
                                         record_figure: Any) -> None:
    scanner.secrets.add(test_customer.token)
    client = test_customer.client
    with phase(1, "A customer with a fleet and a validated spot migration, not yet approved"):
        client.discover()
        client.start_analysis("cost")
        rec = wait_for_recommendation(client, kind="spot_migration", status="validated",
                                      timeout=120)
        say(f"recommendation {rec.id} validated: the walk can approve it")

    walk, replay = Walk(), ""
    with phase(2, f"{SCENARIOS} walks of up to {STEPS} steps along the portal's links"):
        schema = schemathesis.openapi.from_url(
            f"{endpoints.portal_url}/openapi.json", timeout=60,
            config=schemathesis.Config.from_dict({
                "seed": SEED,
                # Declared links only: the walk tests what the document promises.
                "phases": {"stateful": {"inference": {"algorithms": []}}},
                "generation": {"mode": "all", "with-security-parameters": False,
                               "database": "none"}}))
        machine = _machine(schema, test_customer.token, endpoints.admin_token, scanner, walk)
        try:
            machine.run(settings=hypothesis.settings(
                max_examples=SCENARIOS, stateful_step_count=STEPS, deadline=None,
                database=None, phases=[hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck)))
        except Exception as e:
            # Hypothesis replays a failing walk to report it, but the live stack has moved on
            # (new ids, new states): the replay may differ and end in its own "Flaky" error.
            # The first failure, as it happened, is what the tester needs (told once, below).
            if not walk.failure:
                raise
            replay = type(e).__name__
        finally:
            followed = ", ".join(f"{k} {n}" for k, n in sorted(walk.links.items()))
            record_figure(
                f"stateful fuzz (portal links): {SCENARIOS} walks, {walk.steps} steps, "
                f"answers {dict(sorted(walk.statuses.items()))}, links followed to a 2xx "
                f"{sum(walk.links.values())} ({followed}), "
                f"deepest walk {len(walk.deepest)} steps, seed {SEED}, "
                f"E2E_FUZZ_EXAMPLES={EXAMPLES}")
            say("deepest walk: " + " -> ".join(walk.deepest))
        if walk.failure:
            pytest.fail(f"{walk.failure}\n\n(Hypothesis' replay of the walk: {replay})",
                        pytrace=False)

    with phase(3, "The walks fed answers into next steps"):
        assert walk.links, (
            "no link was followed to a 2xx answer: the ids one step produced never reached "
            f"the next (answers: {dict(walk.statuses)}); check the links in /openapi.json")
