"""The portal's OpenAPI links (optiinfra/portal/links.py) name real operations and parameters,
take their values from fields the source's answer really has, and chain the whole workflow."""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any

import pytest
import schemathesis

from optiinfra.common.settings import Settings
from optiinfra.portal.app import create_app
from optiinfra.portal.links import LINKS, Link, add_links

SPEC = create_app(Settings(admin_token="x" * 10), start_loops=False).openapi()
OPS = {op["operationId"]: op for ops in SPEC["paths"].values() for op in ops.values()}
EXPR = re.compile(r"\$response\.body#(/[^}]*)")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _at(schema: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    """The sub-schema a JSON pointer reaches in an answer of ``schema``; None if none."""
    for part in pointer.strip("/").split("/"):
        schema = _resolve(schema)
        options = [_resolve(s) for s in schema.get("anyOf", [schema])]
        nxt = None
        for s in options:
            if part.isdigit() and s.get("type") == "array":
                nxt = s.get("items", {})
            elif part in s.get("properties", {}):
                nxt = s["properties"][part]
        if nxt is None:
            return None
        schema = nxt
    return schema


def _links() -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(op["operationId"], status, name, link) for op in OPS.values()
            for status, response in op["responses"].items()
            for name, link in response.get("links", {}).items()]


def test_every_declared_link_is_served() -> None:
    served = {(src, int(status), name) for src, status, name, _ in _links()}
    assert served == {(k.source, k.status, k.name) for k in LINKS}


@pytest.mark.parametrize(("source", "status", "name", "link"), _links(),
                         ids=[f"{s}.{n}" for s, _, n, _ in _links()])
def test_a_link_names_a_real_operation_and_real_parameters(
        source: str, status: str, name: str, link: dict[str, Any]) -> None:
    target = OPS.get(link["operationId"])
    assert target is not None, f"{source} -> {name}: no operation {link['operationId']!r}"
    declared = {(p["in"], p["name"]) for p in target.get("parameters", [])}
    bearer = any("HTTPBearer" in s for s in target.get("security", []))
    for key in link.get("parameters", {}):
        where, _, param = key.partition(".")
        assert (where, param) in declared or (where, param) == ("header", "Authorization") \
            and bearer, f"{name}: {link['operationId']} has no {where} parameter {param!r}"
    body = _resolve(target.get("requestBody", {}).get("content", {})
                    .get("application/json", {}).get("schema", {}))
    for field in link.get("requestBody", {}):
        assert field in body.get("properties", {}), \
            f"{name}: the body of {link['operationId']} has no field {field!r}"
    answer = SPEC["paths"]
    schema = next(op for ops in answer.values() for op in ops.values()
                  if op["operationId"] == source)["responses"][status]["content"][
        "application/json"]["schema"]
    values = [*link.get("parameters", {}).values(), *map(str, link.get("requestBody", {})
                                                          .values())]
    for value in values:
        for pointer in EXPR.findall(value):
            assert _at(schema, pointer) is not None, \
                f"{name}: the {status} answer of {source} has no {pointer}"


def test_the_links_chain_the_workflow_from_customer_to_optimization() -> None:
    edges: dict[str, set[str]] = {}
    for src, _, _, link in _links():
        edges.setdefault(src, set()).add(link["operationId"])
    reached, todo = {"create_customer"}, deque(["create_customer"])
    while todo:
        for nxt in edges.get(todo.popleft(), ()):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    chain = ["discover", "create_analysis", "get_analysis", "get_recommendation", "approve",
             "get_optimization", "rollback"]
    assert set(chain) <= reached, f"not reachable from a new customer: {set(chain) - reached}"


def test_schemathesis_builds_a_state_machine_from_them() -> None:
    """The stateful fuzzing of scenarios/security runs on these links alone (no inference)."""
    schema = schemathesis.openapi.from_dict(SPEC, config=schemathesis.Config.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": []}}}}))
    machine = schema.as_state_machine()
    transitions = machine._transitions.operations  # the links it will follow
    followed = {link.name for t in transitions.values() for link in t.outgoing}
    assert followed == {k.name for k in LINKS}


def test_a_link_from_an_unknown_operation_or_status_is_refused() -> None:
    spec = {"paths": {"/x": {"get": {"operationId": "x", "responses": {"200": {}}}}}}
    with pytest.raises(LookupError, match="no operation 'nope'"):
        add_links(spec, (Link("nope", 200, "L", "x", "d"),))
    with pytest.raises(LookupError, match="x documents no 201"):
        add_links(spec, (Link("x", 201, "L", "x", "d"),))


def test_docs_name_every_link() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    section = doc[doc.index("### Links"):]
    section = section[:section.index("\n## ")]
    missing = {k.name for k in LINKS if f"`{k.name}`" not in section}
    assert not missing, f"docs/api.md, Links, does not name: {sorted(missing)}"
