"""The platform rides out a datastore restart: services reconnect, stay healthy, and the
next journey completes. These restart shared containers, so they run alone (`serial`):
`make test` runs them before the parallel suite, on the same stack.
"""

from __future__ import annotations

import httpx
import pytest
from python_on_whales import DockerClient

from harness import phase, say, wait_for
from harness.domain import (
    assert_optimization_successful,
    wait_for_optimization_complete,
    wait_for_recommendation,
    wait_for_validation,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.serial]


def _ready(url: str) -> dict:
    """The service's own readiness (its checks of Postgres, Redis, ...), as a client sees it."""
    r = httpx.get(f"{url}/ready", timeout=5)
    body = r.json()
    body["http_status"] = r.status_code
    return body


def _restart(stack, service: str) -> None:
    (container,) = [c for c in DockerClient().container.list(
        filters=[("label", f"com.docker.compose.project={stack.project}"),
                 ("label", f"com.docker.compose.service={service}")])]
    DockerClient().container.restart(container, time=5)


@pytest.mark.req("REQ-RESIL-01")
@pytest.mark.parametrize("store", ["redis", "postgres"])
def test_journey_completes_after_a_datastore_restart(stack, endpoints, store, test_customer,
                                                     test_infrastructure, ws_client):
    client = test_customer.client
    with phase(1, f"Restart {store} under the running platform"):
        _restart(stack, store)
        status = wait_for(stack.status, timeout=120, interval=1,
                          until=lambda s: s.all_ready,
                          description=f"every service healthy again after restarting {store}")
        say(f"all {len(status.services)} services healthy again: {status.brief()}")
        # Docker's health lags (a service is marked unhealthy only after many failed probes),
        # so the platform's own readiness says when its connections are back.
        for name, port in (("orchestrator", endpoints.orchestrator_port),
                           ("portal", endpoints.portal_port)):
            ready = wait_for(lambda port=port: _ready(f"http://{endpoints.host}:{port}"),
                             timeout=120, interval=0.5, transient=(httpx.HTTPError,),
                             until=lambda body: body["http_status"] == 200,
                             description=f"{name} /ready after restarting {store}")
            say(f"{name} ready: {ready['checks']}")

    with phase(2, "A full spot migration still goes through"):
        client.discover()
        client.start_analysis("cost")
        rec = wait_for_recommendation(client, kind="spot_migration", timeout=120,
                                      events=ws_client)
        rec = wait_for_validation(client, rec.id, timeout=120, events=ws_client)
        assert rec.status == "validated", [(v.agent, v.verdict, v.reason)
                                           for v in rec.validations]
        opt_id = client.approve_recommendation(rec.id).optimization_id
        opt = wait_for_optimization_complete(client, opt_id, timeout=300, events=ws_client)
        assert_optimization_successful(opt)
        say(f"optimization {opt_id} completed after the {store} restart")

    with phase(3, "Every service is still healthy"):
        assert stack.status().all_ready, stack.status().table()
