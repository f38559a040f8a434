"""The portal serves its web pages: one HTML page for every /app path, two assets, nothing
else from its folder, with the security headers, and none of it in the OpenAPI document."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2", category=UserWarning)
    from fastapi.testclient import TestClient

from optiinfra.common.settings import Settings
from optiinfra.portal import web
from optiinfra.portal.app import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(admin_token="x" * 10), start_loops=False)) as c:
        yield c


@pytest.mark.parametrize("path", ["/app", "/app/", "/app/recommendations/abc",
                                  "/app/optimizations/abc", "/app/anything/else"])
def test_every_app_path_answers_the_page(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert '<script src="/assets/app.js" defer></script>' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_root_redirects_to_the_app(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (307, "/app/")


@pytest.mark.parametrize("name", sorted(web.ASSETS))
def test_assets_are_served_with_their_type(client: TestClient, name: str) -> None:
    r = client.get(f"/assets/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(web.ASSETS[name])
    assert r.content == (web.STATIC / name).read_bytes()


@pytest.mark.parametrize("name", ["index.html", "..%2fweb.py", "%2e%2e%2fapp.py", "nope.js"])
def test_nothing_else_is_served_from_the_folder(client: TestClient, name: str) -> None:
    assert client.get(f"/assets/{name}").status_code == 404


def test_the_pages_are_not_api_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or re.match(r"^/(app|assets)\b", p)], paths


def test_the_script_has_no_inline_html_sinks() -> None:
    """Everything from the API goes into textContent: no innerHTML, no eval."""
    script = (web.STATIC / "app.js").read_text()
    assert not re.search(r"\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|\beval\(|"
                         r"new Function\(", script)
