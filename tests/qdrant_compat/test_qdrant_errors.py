"""Bad input answers in Qdrant's shape and status codes, never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

NOT_FOUND = "Not found: Collection `missing` doesn't exist!"


def assert_error(response: httpx.Response, status: int, message: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status", "time"}
    assert isinstance(body["time"], float)
    error = body["status"]["error"]
    if message is not None:
        assert error == message
    return error


@pytest.fixture
def four_dims(client: QdrantClient) -> QdrantClient:
    client.create_collection("v4", models.VectorParams(size=4, distance=models.Distance.COSINE))
    client.upsert("v4", [models.PointStruct(id=1, vector=[1, 2, 3, 4], payload={"k": "a"})])
    return client


@pytest.fixture(scope="module")
def v4(server_class, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One server for the many bad requests below: each must leave it untouched."""
    running = server_class(tmp_path_factory.mktemp("v4")).start()
    with httpx.Client(base_url=running.url, timeout=10.0) as raw:
        raw.put("/collections/v4", json={"vectors": {"size": 4, "distance": "Cosine"}})
        point = {"id": 1, "vector": [1, 2, 3, 4], "payload": {"k": "a"}}
        raw.put("/collections/v4/points", json={"points": [point]}).raise_for_status()
        yield raw
    running.stop()


def count_v4(raw: httpx.Client) -> int:
    return raw.post("/collections/v4/points/count", json={}).json()["result"]["count"]


CLIENT_CALLS: list[tuple[str, Callable[[QdrantClient], Any]]] = [
    ("get_collection", lambda c: c.get_collection("missing")),
    ("upsert", lambda c: c.upsert("missing", [models.PointStruct(id=1, vector=[1.0])])),
    ("query_points", lambda c: c.query_points("missing", query=[1.0])),
    ("scroll", lambda c: c.scroll("missing")),
    ("count", lambda c: c.count("missing")),
    ("retrieve", lambda c: c.retrieve("missing", [1])),
    ("delete", lambda c: c.delete("missing", models.PointIdsList(points=[1]))),
    ("set_payload", lambda c: c.set_payload("missing", {"a": 1}, points=[1])),
    ("create_payload_index", lambda c: c.create_payload_index("missing", "a", "keyword")),
    ("update_collection", lambda c: c.update_collection("missing", metadata={"a": 1})),
    ("get_collection_aliases", lambda c: c.get_collection_aliases("missing")),
]


@pytest.mark.parametrize(("name", "call"), CLIENT_CALLS, ids=[n for n, _ in CLIENT_CALLS])
def test_unknown_collection_is_404(client: QdrantClient, name: str, call) -> None:
    with pytest.raises(UnexpectedResponse) as raised:
        call(client)
    assert raised.value.status_code == 404
    assert raised.value.structured()["status"] == {"error": NOT_FOUND}


def test_unknown_collection_get_point_is_404(http: httpx.Client) -> None:
    assert_error(http.get("/collections/missing/points/1"), 404, NOT_FOUND)


def test_wrong_vector_dimension_is_400(four_dims: QdrantClient) -> None:
    expected = "Wrong input: Vector dimension error: expected dim: 4, got 3"
    with pytest.raises(UnexpectedResponse) as raised:
        four_dims.upsert("v4", [models.PointStruct(id=2, vector=[1, 2, 3])])
    assert raised.value.status_code == 400
    assert raised.value.structured()["status"] == {"error": expected}
    with pytest.raises(UnexpectedResponse) as raised:
        four_dims.query_points("v4", query=[1, 2, 3])
    assert raised.value.status_code == 400
    assert raised.value.structured()["status"] == {"error": expected}
    assert four_dims.count("v4").count == 1


def test_unknown_vector_name_is_400(four_dims: QdrantClient, http: httpx.Client) -> None:
    response = http.put(
        "/collections/v4/points", json={"points": [{"id": 5, "vector": {"x": [1]}}]}
    )
    assert_error(response, 400, "Wrong input: Not existing vector name error: x")


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2", b'{"points": [{"id": 1, "vector": [NaN, 1, 1, 1]}]}', b"\xff\xfe"],
    ids=["broken", "truncated", "nan", "not-utf8"],
)
def test_malformed_json_is_400(v4: httpx.Client, body: bytes) -> None:
    response = v4.put(
        "/collections/v4/points", content=body, headers={"content-type": "application/json"}
    )
    assert assert_error(response, 400).startswith("Format error in JSON body: ")
    assert count_v4(v4) == 1


def test_validation_errors_are_422(v4: httpx.Client) -> None:
    error = assert_error(v4.post("/collections/v4/points/query", json={"limit": 0}), 422)
    assert error == (
        "Validation error in JSON body: [limit: Input should be greater than or equal to 1]"
    )
    error = assert_error(
        v4.put("/collections/v5", json={"vectors": {"size": 0, "distance": "Dot"}}), 422
    )
    assert error.startswith("Validation error in JSON body: [vectors.size: ")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/collections/v4/points", {"points": [{"id": -1, "vector": [1, 2, 3, 4]}]}),
        ("PUT", "/collections/v4/points", {"points": [{"id": "nope", "vector": [1, 2, 3, 4]}]}),
        ("PUT", "/collections/v4/points", {"points": [{"id": 1.5, "vector": [1, 2, 3, 4]}]}),
        ("PUT", "/collections/v4/points", {"points": [{"id": 2**64, "vector": [1, 2, 3, 4]}]}),
        ("PUT", "/collections/v4/points", {"points": [{"id": 1, "vector": ["a", 2, 3, 4]}]}),
        ("PUT", "/collections/v4/points", {"points": [{"id": 1}]}),
        ("PUT", "/collections/v4/points", {"points": [{"id": 1, "vector": [1, 2, 3, 4]}], "x": 1}),
        ("PUT", "/collections/v4/points", {"points": [], "batch": {"ids": [], "vectors": []}}),
        ("PUT", "/collections/v4/points", {"batch": {"ids": [1, 2], "vectors": [[1, 2, 3, 4]]}}),
        ("PUT", "/collections/v4/points", [1, 2, 3]),
        ("PUT", "/collections/v4/points", "text"),
        ("PUT", "/collections/x", {"vectors": {"size": 4, "distance": "Hamming"}}),
        ("PUT", "/collections/x", {"vectors": {"size": "4", "distance": "Dot"}}),
        ("PUT", "/collections/x", {"vectors": {"size": 4, "distance": "Dot"}, "bogus": True}),
        (
            "PUT",
            "/collections/x",
            {"vectors": {"size": 4, "distance": "Dot", "multivector_config": {"comparator": "x"}}},
        ),
        ("POST", "/collections/v4/points/query", {"query": "abc"}),
        ("POST", "/collections/v4/points/query", {"query": {"fusion": "rrf"}}),
        ("POST", "/collections/v4/points/query", {"query": [[1, 2], [3, 4]]}),
        ("POST", "/collections/v4/points/query", {"query": [1, 2, 3, 4], "using": "nope"}),
        ("POST", "/collections/v4/points/query", {"query": 12345}),
        ("POST", "/collections/v4/points/query", {"prefetch": {"query": [1, 2, 3, 4]}}),
        ("POST", "/collections/v4/points/query", {"filter": {"must": [{"key": "k"}]}}),
        ("POST", "/collections/v4/points/query", {"filter": {"must": [{"kex": "k"}]}}),
        ("POST", "/collections/v4/points/query", {"filter": {"must": [3]}}),
        (
            "POST",
            "/collections/v4/points/query",
            {"filter": {"must": [{"key": "k", "match": {"value": 2**70}}]}},
        ),
        (
            "POST",
            "/collections/v4/points/query",
            {"filter": {"must": [{"key": "k", "match": {"value": 1, "any": [1]}}]}},
        ),
        (
            "POST",
            "/collections/v4/points/query",
            {"filter": {"must": [{"key": "k", "range": {"gte": "not a date"}}]}},
        ),
        (
            "POST",
            "/collections/v4/points/query",
            {"filter": {"must": [{"key": "k", "range": {"gte": 1, "lt": "2024-01-01T00:00:00Z"}}]}},
        ),
        ("POST", "/collections/v4/points/query", {"query": {"order_by": "k"}}),
        ("POST", "/collections/v4/points/scroll", {"offset": "abc"}),
        ("POST", "/collections/v4/points/scroll", {"limit": -5}),
        ("POST", "/collections/v4/points/scroll", {"order_by": "k"}),
        ("POST", "/collections/v4/points/count", {"exact": "yes"}),
        ("POST", "/collections/v4/points", {"ids": ["abc"]}),
        ("POST", "/collections/v4/points", {}),
        ("POST", "/collections/v4/points/delete", {}),
        ("POST", "/collections/v4/points/delete", {"points": [1], "filter": {}}),
        ("POST", "/collections/v4/points/search", {"vector": [1, 2, 3, 4]}),
        ("PUT", "/collections/v4/index", {"field_name": "k", "field_schema": "blob"}),
        ("GET", "/collections/v4/points/-1", None),
        ("PUT", "/collections/v4/points?wait=maybe", {"points": []}),
    ],
)
def test_bad_input_is_4xx_never_500(v4: httpx.Client, method: str, path: str, body: Any) -> None:
    response = v4.request(method, path, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert_error(response, response.status_code)
    # The collection is untouched and still serves requests.
    assert count_v4(v4) == 1


def test_empty_body_is_answered_not_crashed(v4: httpx.Client) -> None:
    # Every field of a count request is optional, so no body counts everything.
    response = v4.post("/collections/v4/points/count")
    assert response.status_code == 200
    assert response.json()["result"] == {"count": 1}
    assert_error(v4.put("/collections/v4/points"), 400)


def test_wrong_method_is_405_in_qdrant_shape(http: httpx.Client) -> None:
    assert_error(http.patch("/collections"), 405)
