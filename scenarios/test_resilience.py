"""The platform rides out a datastore restart (services reconnect, stay healthy, and the
next journey completes) and an agent killed in the middle of a task (the restarted agent
picks the task up again and runs it exactly once; a task whose consumer never comes back is
claimed by a live agent and runs exactly once). These restart or pause shared containers, so they
run alone (`serial`): `make test` runs them before the parallel suite, on the same stack.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from python_on_whales import DockerClient

from harness import phase, say, wait_for
from harness.domain import (
    DEFAULT_FLEET,
    assert_optimization_successful,
    launch_fleet,
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


def _container(stack, service: str):
    (container,) = DockerClient().container.list(all=True, filters=[
        ("label", f"com.docker.compose.project={stack.project}"),
        ("label", f"com.docker.compose.service={service}")])
    return container


def _restart(stack, service: str) -> None:
    DockerClient().container.restart(_container(stack, service), time=5)


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


# The platform's task queue as Redis holds it (docs/api.md: agents, Redis Streams).
TASKS = "optiinfra:tasks:{agent}"
GROUP = "{agent}-agents"


def _pending(redis_client, agent: str, task_id: str) -> dict | None:
    """The consumer-group entry of ``task_id`` while a consumer holds it unacknowledged."""
    stream, group = TASKS.format(agent=agent), GROUP.format(agent=agent)
    for entry in redis_client.xpending_range(stream, group, min="-", max="+", count=1000):
        for _mid, fields in redis_client.xrange(stream, min=entry["message_id"],
                                                max=entry["message_id"]):
            if json.loads(fields["data"])["id"] == task_id:
                return entry
    return None


@dataclass
class HeldTask:
    """An application agent's validation task, taken and held unacknowledged."""

    docker: DockerClient
    agent: Any
    workload: Any
    rec: Any
    task_id: str
    held: dict


@contextlib.contextmanager
def _application_task_held(stack, test_customer, ec2, redis_client, ws_client
                           ) -> Iterator[HeldTask]:
    """Phase 1 of the agent-death scenarios; afterwards, whatever happened, the workload runs
    and the agent is up again."""
    client = test_customer.client
    docker = DockerClient()
    agent, workload = _container(stack, "agent-application"), _container(stack, "workload")
    try:
        with phase(1, "The application agent takes a validation it cannot finish yet"):
            # With the workload paused a new fleet has no samples, so the agent's baseline
            # check waits for them: its task stays in flight, long enough to kill it there.
            docker.container.pause(workload)
            launch_fleet(ec2, test_customer.id, DEFAULT_FLEET)
            client.start_analysis("cost")
            rec = wait_for_recommendation(client, kind="spot_migration", timeout=60,
                                          events=ws_client)
            task_id = f"validate:{rec.id}:application"
            held = wait_for(lambda: _pending(redis_client, "application", task_id),
                            timeout=15, interval=0.1, until=bool,
                            description=f"the application agent to take task {task_id}")
            say(f"task {task_id} held by {held['consumer']}, unacknowledged")
        yield HeldTask(docker, agent, workload, rec, task_id, held)
    finally:
        agent.reload()
        workload.reload()
        if workload.state.paused:
            docker.container.unpause(workload)
        if not agent.state.running:
            docker.container.start(agent)


@pytest.mark.req("REQ-RESIL-02")
def test_a_task_whose_agent_dies_is_picked_up_again_and_runs_once(
        stack, test_customer, ec2, redis_client, ws_client):
    client = test_customer.client
    with _application_task_held(stack, test_customer, ec2, redis_client, ws_client) as t:
        docker, agent, workload, rec, task_id = t.docker, t.agent, t.workload, t.rec, t.task_id
        with phase(2, "The agent is killed mid-task and comes back"):
            docker.container.kill(agent)  # SIGKILL: no chance to finish or hand back
            docker.container.unpause(workload)
            docker.container.start(agent)
            say("agent-application killed and started again; workload resumed")

        # The restarted agent (same consumer name) finds the task in its pending list and
        # runs it once the dead process's lease on the task id lapses.
        with phase(3, "The task is picked up again after the restart and runs exactly once"):
            rec = wait_for_validation(client, rec.id, timeout=120, events=ws_client)
            verdicts = [(v.agent, v.verdict) for v in rec.validations]
            assert rec.status == "validated", f"recommendation is '{rec.status}': {verdicts}"
            assert [a for a, _ in verdicts].count("application") == 1, verdicts
            recorded = [e for e in ws_client.snapshot() if e.entity_id == rec.id
                        and e.type == "validation.recorded"
                        and e.data.get("agent") == "application"]
            assert len(recorded) == 1, ws_client.timeline()
            left = _pending(redis_client, "application", task_id)
            assert left is None, f"task still unacknowledged after it ran: {left}"
            say(f"validated with one application verdict: {verdicts}")

        with phase(4, "Every service is healthy again"):
            status = wait_for(stack.status, timeout=120, interval=1, until=lambda s: s.all_ready,
                              description="every service healthy after the agent's restart")
            say(status.brief())


@pytest.mark.req("REQ-RESIL-03")
def test_a_task_whose_consumer_never_comes_back_is_claimed_and_runs_once(
        stack, test_customer, ec2, redis_client, ws_client):
    client = test_customer.client
    stream, group = TASKS.format(agent="application"), GROUP.format(agent="application")
    ghost = f"gone-for-good-{test_customer.id[:8]}"
    try:
        with _application_task_held(stack, test_customer, ec2, redis_client, ws_client) as t:
            docker, agent, workload, rec, task_id = (t.docker, t.agent, t.workload, t.rec,
                                                     t.task_id)
            held = t.held
            with phase(2, "Its agent dies and the task's consumer never comes back"):
                docker.container.kill(agent)
                # What a replica scaled away leaves: the task pending under a consumer no process
                # will ever read as again (the restarted agent's own pending list is empty).
                redis_client.xclaim(stream, group, ghost, 0, [held["message_id"]], justid=True)
                docker.container.unpause(workload)
                docker.container.start(agent)
                say(f"task {task_id} left pending under consumer {ghost}; agent restarted")

            with phase(3, "A live agent claims the idle task and runs it exactly once"):
                rec = wait_for_validation(client, rec.id, timeout=120, events=ws_client)
                verdicts = [(v.agent, v.verdict) for v in rec.validations]
                assert rec.status == "validated", f"recommendation is '{rec.status}': {verdicts}"
                assert [a for a, _ in verdicts].count("application") == 1, verdicts
                left = _pending(redis_client, "application", task_id)
                assert left is None, f"task still unacknowledged after it ran: {left}"
                say(f"claimed from {ghost} and validated once: {verdicts}")
    finally:
        redis_client.xgroup_delconsumer(stream, group, ghost)
