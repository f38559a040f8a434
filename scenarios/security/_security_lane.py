"""What the security lane shares: the live OpenAPI as a list of operations, the response
scanner, and the promises of docs/api.md read from the document itself.

Nothing here lists routes: every operation comes from the service's own ``/openapi.json``, so
a route added tomorrow is probed tomorrow.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Served without credentials on both HTTP services (docs/api.md, "Who may call what").
PUBLIC = {("GET", "/health"), ("GET", "/ready")}

# The fuzzing phases' shared settings (test_security_fuzz.py, test_security_stateful.py): a
# bounded, seeded budget in make test; E2E_FUZZ_EXAMPLES raises it for a deep run.
EXAMPLES = int(os.environ.get("E2E_FUZZ_EXAMPLES", "5"))
SEED = 20261203
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def params(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == where]

    def header_names(self) -> set[str]:
        return {p["name"].lower() for p in self.params("header")}

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.params("path")]

    @property
    def id_query_params(self) -> list[str]:
        """Query parameters that take an id: a UUID pattern, or a name ending in ``_id``."""
        out = []
        for p in self.params("query"):
            schema = p.get("schema", {})
            options = [schema, *schema.get("anyOf", [])]
            if p["name"].endswith("_id") or any(
                    o.get("format") == "uuid" or "[0-9a-f]{8}" in o.get("pattern", "")
                    for o in options):
                out.append(p["name"])
        return out

    @property
    def has_body(self) -> bool:
        return "requestBody" in self.spec

    @property
    def auth(self) -> str:
        """``public``, ``customer`` (bearer), ``admin`` (X-Admin-Token) or ``undeclared``."""
        if (self.method, self.path) in PUBLIC:
            return "public"
        if "x-admin-token" in self.header_names():
            return "admin"
        if self.spec.get("security"):
            return "customer"
        return "undeclared"

    def url(self, ids: dict[str, str] | None = None) -> str:
        """The path with every path parameter filled (``ids`` by name, else a fresh UUID)."""
        ids = ids or {}
        return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), str(uuid.uuid4())),
                      self.path)


def operations(spec: dict[str, Any]) -> list[Operation]:
    return [Operation(method.upper(), path, op) for path, ops in sorted(spec["paths"].items())
            for method, op in ops.items() if method in ("get", "post", "put", "delete", "patch")]


def collected_operations() -> list[tuple[str, str, str]]:
    """``(service, method, path)`` of every operation of the portal and the orchestrator,
    read from their FastAPI apps built in-process (no Docker, no network: usable at pytest
    collection). The fuzz lane holds these to the live documents."""
    from optiinfra.common.settings import Settings
    from optiinfra.orchestrator.app import create_app as orchestrator_app
    from optiinfra.portal.app import create_app as portal_app

    settings = Settings(admin_token="collection-only")
    apps = (("portal", portal_app(settings, start_loops=False)),
            ("orchestrator", orchestrator_app(settings, start_loops=False)))
    return [(service, op.method, op.path) for service, app in apps
            for op in operations(app.openapi())]


def fetch_spec(base_url: str) -> dict[str, Any]:
    r = httpx.get(f"{base_url}/openapi.json", timeout=10)
    assert r.status_code == 200, f"{base_url}/openapi.json answered {r.status_code}: {r.text[:300]}"
    return r.json()


# ---- promises of docs/api.md ----------------------------------------------------------------

def doc_table(heading: str) -> list[dict[str, str]]:
    """The markdown table under ``heading`` in docs/api.md, one dict per row."""
    text = DOCS.read_text()
    start = text.find(heading)
    assert start >= 0, f"docs/api.md has no section {heading!r}: the security lane reads " \
                       "its promises from there"
    rows = []
    lines = text[start:].splitlines()[1:]
    header: list[str] | None = None
    for line in lines:
        if not line.startswith("|"):
            if header is not None:
                break
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            rows.append(dict(zip(header, cells, strict=False)))
    return rows


def promised_status(cell: str) -> int | None:
    """``401``, ``403 (...)`` -> the status; ``-``/``n/a`` -> None (case does not apply)."""
    m = re.match(r"\s*(\d{3})", cell)
    return int(m.group(1)) if m else None


# ---- the response scanner -------------------------------------------------------------------

_TRACE = re.compile(r"Traceback \(most recent call last\)|File \"/[^\"]+\", line \d+")
_SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b[^\"]{0,200}"
                  r"\b(FROM|WHERE|VALUES|SET)\b|syntax error at or near|relation \"\w+\"|"
                  r"psycopg|UndefinedTable", re.I)
_DOWNSTREAM = re.compile(
    r"botocore|boto3|An error occurred \(\w+\)|EndpointConnectionError|clickhouse_driver|"
    r"qdrant_client|redis\.exceptions|httpx\.\w+Error|ValidationError: \d+ validation error|"
    r"pydantic_core|starlette\.|uvicorn\.|asyncio\.\w+Error|Errno \d+")
_TOKEN = re.compile(r"\boi_[A-Za-z0-9_-]{20,}")
# Where a token may legitimately appear in an answer: the customer creation (shown once).
TOKEN_ISSUERS = {("POST", "/api/v1/customers")}
ECHO_MIN = 64  # shorter inputs (an id in "analysis <id> not found") may be named in an error


@dataclass
class Finding:
    what: str
    method: str
    url: str
    status: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status}: {self.what}\n    {self.excerpt}"


@dataclass
class ResponseScanner:
    """Looks at every response the lane sees. A finding is something no answer may carry:
    an error that echoes the whole input, a stack trace, SQL, a compose host name, a token,
    or a downstream library's raw error."""

    internal_hosts: Iterable[str]
    secrets: set[str] = field(default_factory=set)
    seen: int = 0
    findings: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        hosts = sorted({h for h in self.internal_hosts if h}, key=len, reverse=True)
        # A compose service as a host: "orchestrator:8000", "http://aws", "postgres:5432".
        self._hosts = re.compile(
            r"(?:https?://|\b)(" + "|".join(map(re.escape, hosts)) + r")(?::\d{2,5}|/)")

    def scan(self, method: str, url: str, status: int, body: str, request_body: bytes = b"",
             request_values: Iterable[str] = (), template: str = "") -> list[Finding]:
        self.seen += 1
        found: list[Finding] = []

        def hit(what: str, m: re.Match[str] | None = None, pos: int = 0) -> None:
            at = m.start() if m else pos
            found.append(Finding(what, method, url, status, body[max(0, at - 60):at + 100]))

        if m := _TRACE.search(body):
            hit("a stack trace", m)
        if m := _SQL.search(body):
            hit("SQL or a database driver's error", m)
        if m := _DOWNSTREAM.search(body):
            hit("a downstream library's raw error", m)
        if m := self._hosts.search(body):
            hit(f"an internal host name of the compose network ({m.group(1)})", m)
        if (method, template) not in TOKEN_ISSUERS:
            for secret in self.secrets:
                if secret and secret in body:
                    hit("a token", pos=body.index(secret))
            if m := _TOKEN.search(body):
                hit("something shaped like an API token", m)
        if status >= 400:
            inputs = [v for v in request_values if len(v) >= ECHO_MIN]
            text = request_body.decode("utf-8", "replace")
            if len(text) >= ECHO_MIN:
                inputs.append(text)
                with contextlib.suppress(ValueError):
                    inputs += [v for v in _strings(json.loads(text)) if len(v) >= ECHO_MIN]
            for v in inputs:
                if v in body:
                    hit(f"the error echoes the input ({len(v)} characters)", pos=body.index(v))
                    break
        self.findings += found
        return found

    def scan_httpx(self, r: httpx.Response, template: str = "") -> list[Finding]:
        req = r.request
        values = [v for _, v in req.url.params.multi_items()] + req.url.path.split("/")
        return self.scan(req.method, str(req.url), r.status_code, r.text,
                         req.content if hasattr(req, "_content") else b"", values, template)

    def report(self) -> str:
        return "\n".join(str(f) for f in self.findings)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
