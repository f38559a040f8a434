"""Collection lifecycle through the unmodified qdrant-client."""

from __future__ import annotations

import httpx
import pytest
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse


def test_create_check_inspect_list_delete(client: QdrantClient) -> None:
    assert client.get_collections().collections == []
    assert client.collection_exists("docs") is False

    assert client.create_collection(
        "docs", vectors_config=models.VectorParams(size=4, distance=models.Distance.COSINE)
    )
    assert client.collection_exists("docs") is True
    assert [c.name for c in client.get_collections().collections] == ["docs"]

    info = client.get_collection("docs")
    assert info.status == models.CollectionStatus.GREEN
    assert info.points_count == 0
    assert info.config.params.vectors == models.VectorParams(
        size=4, distance=models.Distance.COSINE
    )

    assert client.delete_collection("docs") is True
    assert client.collection_exists("docs") is False
    assert client.get_collections().collections == []
    assert client.delete_collection("docs") is False  # as Qdrant: 200 with `false`


def test_collections_are_listed_by_name(client: QdrantClient) -> None:
    for name in ("b", "a", "c"):
        client.create_collection(name, models.VectorParams(size=2, distance=models.Distance.DOT))
    assert sorted(c.name for c in client.get_collections().collections) == ["a", "b", "c"]


def test_named_vectors_collection(client: QdrantClient) -> None:
    client.create_collection(
        "multi",
        vectors_config={
            "text": models.VectorParams(size=3, distance=models.Distance.COSINE),
            "image": models.VectorParams(size=2, distance=models.Distance.EUCLID),
        },
    )
    params = client.get_collection("multi").config.params
    assert params.vectors == {
        "text": models.VectorParams(size=3, distance=models.Distance.COSINE),
        "image": models.VectorParams(size=2, distance=models.Distance.EUCLID),
    }
    client.upsert(
        "multi",
        [
            models.PointStruct(id=1, vector={"text": [1, 0, 0], "image": [0, 0]}),
            models.PointStruct(id=2, vector={"image": [5, 5]}),  # a subset is allowed
        ],
    )
    hits = client.query_points("multi", query=[1, 1], using="image", with_vectors=True).points
    assert [h.id for h in hits] == [1, 2]
    assert hits[0].vector == {"text": [1.0, 0.0, 0.0], "image": [0.0, 0.0]}


def test_sparse_vectors_collection(client: QdrantClient) -> None:
    client.create_collection(
        "hybrid",
        vectors_config={"dense": models.VectorParams(size=2, distance=models.Distance.DOT)},
        sparse_vectors_config={"words": models.SparseVectorParams()},
    )
    client.upsert(
        "hybrid",
        [
            models.PointStruct(
                id=1,
                vector={
                    "dense": [1, 0],
                    "words": models.SparseVector(indices=[1, 7], values=[0.5, 2.0]),
                },
            ),
            models.PointStruct(
                id=2, vector={"words": models.SparseVector(indices=[7], values=[1.0])}
            ),
        ],
    )
    hits = client.query_points(
        "hybrid", query=models.SparseVector(indices=[7], values=[1.0]), using="words"
    ).points
    assert [(h.id, h.score) for h in hits] == [(1, 2.0), (2, 1.0)]


def test_update_collection_merges_metadata_and_accepts_tuning(client: QdrantClient) -> None:
    client.create_collection(
        "meta", models.VectorParams(size=2, distance=models.Distance.DOT), metadata={"a": 1}
    )
    assert client.update_collection(
        "meta",
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=100),
        metadata={"b": 2},
    )
    assert client.get_collection("meta").config.metadata == {"a": 1, "b": 2}
    assert client.get_aliases().aliases == []
    assert client.get_collection_aliases("meta").aliases == []


def test_duplicate_create_is_409(client: QdrantClient) -> None:
    params = models.VectorParams(size=4, distance=models.Distance.COSINE)
    client.create_collection("dup", params)
    with pytest.raises(UnexpectedResponse) as raised:
        client.create_collection("dup", params)
    assert raised.value.status_code == 409
    assert raised.value.structured()["status"] == {
        "error": "Wrong input: Collection `dup` already exists!"
    }


def test_payload_index_shows_in_info(client: QdrantClient) -> None:
    client.create_collection("idx", models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("idx", [models.PointStruct(id=1, vector=[1, 1], payload={"city": "Oslo"})])
    client.create_payload_index("idx", "city", models.PayloadSchemaType.KEYWORD)
    schema = client.get_collection("idx").payload_schema
    assert schema["city"].data_type == models.PayloadSchemaType.KEYWORD
    client.delete_payload_index("idx", "city")
    assert client.get_collection("idx").payload_schema == {}


@pytest.mark.parametrize("name", ["a*b", "a:b", 'a"b', "a|b", "x" * 256])
def test_invalid_collection_names_are_rejected(http: httpx.Client, name: str) -> None:
    response = http.put(f"/collections/{name}", json={"vectors": {"size": 2, "distance": "Dot"}})
    assert response.status_code == 422
    assert response.json()["status"]["error"].startswith("Validation error in path parameters")


def test_collection_without_vectors_is_rejected(http: httpx.Client) -> None:
    response = http.put("/collections/empty", json={})
    assert response.status_code == 400
    assert "at least one dense or sparse vector" in response.json()["status"]["error"]


def test_unsupported_tuning_knobs_are_accepted(client: QdrantClient) -> None:
    # Clients often pass these; the engine chooses its own and the create must not fail.
    assert client.create_collection(
        "tuned",
        models.VectorParams(size=2, distance=models.Distance.COSINE, on_disk=True),
        hnsw_config=models.HnswConfigDiff(m=32),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=0),
        on_disk_payload=True,
        shard_number=1,
    )
