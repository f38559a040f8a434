"""docs/api.md stays in step with the portal's OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

from optiinfra.common.settings import Settings
from optiinfra.portal.app import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_route_is_documented_and_every_documented_route_exists() -> None:
    spec = create_app(Settings(admin_token="x" * 10), start_loops=False).openapi()
    routes = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    text = DOC.read_text()
    documented = set()
    for methods, path in re.findall(r"`((?:(?:GET|POST|PUT|DELETE)/?)+) (/[^` ?]*)", text):
        for m in methods.split("/"):
            if m:
                documented.add((m, re.sub(r"\{[^}]+\}", "{}", path)))
    norm = {(m, re.sub(r"\{[^}]+\}", "{}", p)) for m, p in routes}
    assert norm - documented == set(), "routes missing from docs/api.md"
    served_by_fastapi = {("GET", "/openapi.json")}
    assert documented - norm - served_by_fastapi == set(), "docs/api.md lists unknown routes"
