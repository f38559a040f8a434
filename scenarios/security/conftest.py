"""Fixtures of the security lane: the live OpenAPI documents, a response scanner per test,
and two tenants who each ran a full journey (shared by every xdist worker of the session).

``probe`` sends one request, runs the scanner over the answer and counts it; each test
reports its counts with ``record_figure`` so the terminal summary prints them (under xdist
too: the lines travel to the controller in the reports).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import httpx
import pytest
from _security_lane import ResponseScanner, fetch_spec
from _tenants import Tenant, Tenants, build_tenants
from filelock import FileLock

from harness.core import Stack
from harness.domain import Endpoints, aws_client, terminate_customer_instances


@pytest.fixture(scope="session")
def portal_spec(endpoints: Endpoints) -> dict[str, Any]:
    return fetch_spec(endpoints.portal_url)


@pytest.fixture(scope="session")
def orchestrator_spec(endpoints: Endpoints) -> dict[str, Any]:
    return fetch_spec(endpoints.orchestrator_url)


@pytest.fixture(scope="session")
def internal_hosts(stack: Stack) -> list[str]:
    """The compose network's host names: the service names of the compose files."""
    return sorted(stack.services())


@pytest.fixture
def scanner(internal_hosts: list[str], endpoints: Endpoints) -> Iterator[ResponseScanner]:
    """Every answer the test sees goes through it; the test fails on the first finding."""
    yield ResponseScanner(internal_hosts, {endpoints.admin_token})


class Prober:
    """Sends requests, scans every answer, counts them."""

    def __init__(self, scanner: ResponseScanner) -> None:
        self.scanner = scanner
        self.count = 0
        self.http = httpx.Client(timeout=60)

    def __call__(self, method: str, url: str, template: str = "", **kw: Any) -> httpx.Response:
        r = self.http.request(method, url, **kw)
        self.count += 1
        found = self.scanner.scan_httpx(r, template)
        assert not found, "response scanner:\n" + "\n".join(map(str, found))
        return r


@pytest.fixture
def probe(scanner: ResponseScanner) -> Iterator[Prober]:
    p = Prober(scanner)
    yield p
    p.http.close()


@pytest.fixture(scope="session")
def tenants(stack: Stack, endpoints: Endpoints) -> Iterator[Tenants]:
    """Two customers, each with a discovery, an analysis, an approved recommendation, a
    completed optimization and its pattern, and the events each WebSocket got meanwhile.
    Built once per session: the first xdist worker builds, the others read its file."""
    session = os.environ.get("E2E_SESSION_ID", "nosession")
    state = stack.config.state_dir / f"{stack.project}.security-tenants.{session}.json"
    stack.config.state_dir.mkdir(parents=True, exist_ok=True)
    built_here = False
    with FileLock(str(state) + ".lock"):
        if state.exists():
            raw = json.loads(state.read_text())
            got = Tenants(Tenant(**raw["a"]), Tenant(**raw["b"]), raw["built_s"])
        else:
            for old in stack.config.state_dir.glob(f"{stack.project}.security-tenants.*.json"):
                old.unlink(missing_ok=True)  # an earlier session's
            got = build_tenants(endpoints)
            state.write_text(json.dumps(asdict(got)))
            built_here = True
    yield got
    if built_here:
        ec2 = aws_client(endpoints, "ec2")
        for t in (got.a, got.b):
            terminate_customer_instances(ec2, t.id)
