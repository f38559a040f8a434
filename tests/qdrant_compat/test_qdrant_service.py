"""Version, health and unknown routes."""

from __future__ import annotations

import importlib.metadata
import warnings

import httpx
import pytest
from qdrant_client.common.version_check import get_server_version, is_compatible
from qdrant_client.qdrant_remote import QdrantRemote
from qdrant_compat import SERVER_VERSION


def test_root_reports_qdrant_title_and_version(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "title": "qdrant - vector search engine",
        "version": SERVER_VERSION,
        "commit": None,
    }


def test_client_info(client) -> None:
    assert client.info().version == SERVER_VERSION


def test_installed_qdrant_client_accepts_the_version_without_warning(server) -> None:
    client_version = importlib.metadata.version("qdrant-client")
    server_version = get_server_version(server.url, {}, None, 5)
    assert server_version == SERVER_VERSION
    assert is_compatible(client_version, server_version)
    # The exact check QdrantClient runs in a background thread, run here synchronously.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        QdrantRemote._check_compatibility(server.url, {}, None, 5)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/healthz", "healthz check passed"),
        ("/livez", "healthz check passed"),
        ("/readyz", "all shards are ready"),
    ],
)
def test_health_endpoints_answer_json(http: httpx.Client, path: str, title: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.json() == {"title": title}


@pytest.mark.parametrize("path", ["/nope", "/docs", "/openapi.json", "/collections/a/b/c/d"])
def test_unknown_routes_answer_404_in_qdrant_shape(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"status", "time"}
    assert isinstance(body["status"]["error"], str)
