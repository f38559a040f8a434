"""Point operations through the unmodified qdrant-client."""

from __future__ import annotations

import uuid

import pytest
from qdrant_client import QdrantClient, models

COLLECTION = "cities"
UUID_ID = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
CITIES = [
    (1, [1.0, 0.0, 0.0, 0.0], {"city": "Berlin", "country": "DE", "population": 3.6}),
    (2, [0.9, 0.1, 0.0, 0.0], {"city": "Munich", "country": "DE", "population": 1.5}),
    (3, [0.0, 1.0, 0.0, 0.0], {"city": "Paris", "country": "FR", "population": 2.1}),
    (4, [0.0, 0.9, 0.1, 0.0], {"city": "Lyon", "country": "FR", "population": 0.5}),
    (5, [0.0, 0.0, 1.0, 0.0], {"city": "Oslo", "country": "NO", "population": 0.7}),
    (UUID_ID, [0.0, 0.0, 0.0, 1.0], {"city": "Rome", "country": "IT", "tags": ["old", "big"]}),
]


def country(code: str) -> models.FieldCondition:
    return models.FieldCondition(key="country", match=models.MatchValue(value=code))


@pytest.fixture
def cities(client: QdrantClient) -> QdrantClient:
    client.create_collection(
        COLLECTION, models.VectorParams(size=4, distance=models.Distance.EUCLID)
    )
    result = client.upsert(
        COLLECTION,
        [models.PointStruct(id=i, vector=v, payload=p) for i, v, p in CITIES],
        wait=True,
    )
    assert result.status == models.UpdateStatus.COMPLETED
    return client


def ids(points: list) -> list:
    return [p.id for p in points]


def test_upsert_reports_operation_and_counts(cities: QdrantClient) -> None:
    assert cities.count(COLLECTION).count == len(CITIES)
    assert cities.get_collection(COLLECTION).points_count == len(CITIES)
    again = cities.upsert(COLLECTION, [models.PointStruct(id=1, vector=[1, 0, 0, 0])])
    assert again.operation_id is not None and again.operation_id >= 2
    assert cities.count(COLLECTION).count == len(CITIES)  # same id: replaced, not added


def test_batch_upsert(client: QdrantClient) -> None:
    client.create_collection("b", models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(
        "b",
        models.Batch(
            ids=[1, 2, str(uuid.UUID(int=3))],
            vectors=[[1, 0], [0, 1], [1, 1]],
            payloads=[{"n": 1}, {"n": 2}, {}],
        ),
    )
    records = client.retrieve("b", [1, 2, str(uuid.UUID(int=3))])
    assert {r.id: r.payload for r in records} == {
        1: {"n": 1},
        2: {"n": 2},
        str(uuid.UUID(int=3)): {},
    }


def test_query_nearest_with_filter(cities: QdrantClient) -> None:
    hits = cities.query_points(
        COLLECTION, query=[1, 0, 0, 0], query_filter=models.Filter(must=[country("DE")]), limit=5
    ).points
    assert ids(hits) == [1, 2]
    assert hits[0].score == pytest.approx(0.0)  # Euclid: distance, smaller is closer
    assert hits[0].payload == {"city": "Berlin", "country": "DE", "population": 3.6}
    assert hits[0].vector is None


def test_query_filter_should_must_not_any_range(cities: QdrantClient) -> None:
    def query(flt: models.Filter) -> list:
        return sorted(
            ids(cities.query_points(COLLECTION, query=[0, 0, 0, 0], query_filter=flt).points),
            key=str,
        )

    assert query(models.Filter(should=[country("FR"), country("NO")])) == [3, 4, 5]
    assert query(models.Filter(must_not=[country("DE"), country("FR")])) == [5, UUID_ID]
    assert query(
        models.Filter(
            must=[models.FieldCondition(key="country", match=models.MatchAny(any=["DE", "IT"]))]
        )
    ) == [1, 2, UUID_ID]
    assert query(
        models.Filter(
            must=[models.FieldCondition(key="population", range=models.Range(gte=1.0, lt=3.0))]
        )
    ) == [2, 3]
    assert query(
        models.Filter(
            must=[models.FieldCondition(key="tags", match=models.MatchValue(value="old"))]
        )
    ) == [UUID_ID]
    assert query(
        models.Filter(
            must=[models.Filter(should=[country("NO"), country("IT")])],
            must_not=[models.HasIdCondition(has_id=[UUID_ID])],
        )
    ) == [5]
    assert query(
        models.Filter(must=[models.IsEmptyCondition(is_empty=models.PayloadField(key="tags"))])
    ) == [1, 2, 3, 4, 5]


def test_query_limit_offset_threshold_and_vectors(cities: QdrantClient) -> None:
    everything = cities.query_points(COLLECTION, query=[1, 0, 0, 0], limit=10).points
    assert ids(everything)[:2] == [1, 2]
    page = cities.query_points(COLLECTION, query=[1, 0, 0, 0], limit=2, offset=1).points
    assert ids(page) == ids(everything)[1:3]
    near = cities.query_points(COLLECTION, query=[1, 0, 0, 0], score_threshold=0.5).points
    assert ids(near) == [1, 2]  # Euclid threshold: distance at most 0.5
    with_vec = cities.query_points(
        COLLECTION, query=[1, 0, 0, 0], limit=1, with_vectors=True, with_payload=["city"]
    ).points[0]
    assert with_vec.vector == [1.0, 0.0, 0.0, 0.0]
    assert with_vec.payload == {"city": "Berlin"}
    excluded = cities.query_points(
        COLLECTION,
        query=[1, 0, 0, 0],
        limit=1,
        with_payload=models.PayloadSelectorExclude(exclude=["population", "country"]),
    ).points[0]
    assert excluded.payload == {"city": "Berlin"}


def test_query_by_point_id_leaves_the_point_out(cities: QdrantClient) -> None:
    hits = cities.query_points(COLLECTION, query=1, limit=2).points
    assert ids(hits) == [2, 4]  # nearest to point 1, which is not its own neighbour


def test_query_without_vector_lists_filtered_points(cities: QdrantClient) -> None:
    hits = cities.query_points(COLLECTION, query_filter=models.Filter(must=[country("FR")])).points
    assert sorted(ids(hits)) == [3, 4]


def test_order_by_needs_and_uses_a_range_index(cities: QdrantClient) -> None:
    cities.create_payload_index(COLLECTION, "population", models.PayloadSchemaType.FLOAT)
    records, _ = cities.scroll(
        COLLECTION, order_by=models.OrderBy(key="population", direction="desc"), limit=3
    )
    assert ids(records) == [1, 3, 2]


def test_scroll_pages_through_everything(cities: QdrantClient) -> None:
    seen: list = []
    offset = None
    pages = 0
    while True:
        records, offset = cities.scroll(COLLECTION, limit=4, offset=offset, with_payload=True)
        seen.extend(ids(records))
        pages += 1
        assert all(r.payload for r in records)
        if offset is None:
            break
    assert pages == 2
    assert seen == [1, 2, 3, 4, 5, UUID_ID]  # integer ids first, then UUIDs


def test_scroll_with_filter_and_vectors(cities: QdrantClient) -> None:
    records, offset = cities.scroll(
        COLLECTION,
        scroll_filter=models.Filter(must=[country("DE")]),
        limit=1,
        with_vectors=True,
        with_payload=False,
    )
    assert ids(records) == [1] and offset == 2
    assert records[0].vector == [1.0, 0.0, 0.0, 0.0] and records[0].payload is None
    records, offset = cities.scroll(
        COLLECTION, scroll_filter=models.Filter(must=[country("DE")]), limit=1, offset=offset
    )
    assert ids(records) == [2] and offset is None


def test_count_with_filter(cities: QdrantClient) -> None:
    assert cities.count(COLLECTION, count_filter=models.Filter(must=[country("FR")])).count == 2
    assert cities.count(COLLECTION, exact=False).count == len(CITIES)
    assert cities.count(COLLECTION, count_filter=models.Filter(must=[country("XX")])).count == 0


def test_retrieve_and_get_point(cities: QdrantClient, http) -> None:
    records = cities.retrieve(COLLECTION, [UUID_ID, 3, 999], with_vectors=True)
    assert sorted(ids(records), key=str) == [3, UUID_ID]
    by_id = {r.id: r for r in records}
    assert by_id[3].payload["city"] == "Paris"
    assert by_id[UUID_ID].vector == [0.0, 0.0, 0.0, 1.0]

    response = http.get(f"/collections/{COLLECTION}/points/{UUID_ID.upper()}")
    assert response.status_code == 200
    assert response.json()["result"]["id"] == UUID_ID  # canonical lowercase form
    assert response.json()["result"]["vector"] == [0.0, 0.0, 0.0, 1.0]
    missing = http.get(f"/collections/{COLLECTION}/points/999")
    assert missing.status_code == 404
    assert missing.json()["status"]["error"] == "Not found: No point with id 999 found"


def test_delete_points_by_id_and_by_filter(cities: QdrantClient) -> None:
    result = cities.delete(COLLECTION, models.PointIdsList(points=[1, UUID_ID]))
    assert result.status == models.UpdateStatus.COMPLETED
    assert cities.count(COLLECTION).count == len(CITIES) - 2
    cities.delete(COLLECTION, models.FilterSelector(filter=models.Filter(must=[country("FR")])))
    remaining, _ = cities.scroll(COLLECTION)
    assert ids(remaining) == [2, 5]


def test_payload_updates(cities: QdrantClient) -> None:
    cities.set_payload(COLLECTION, {"visited": True}, points=[1, 2])
    cities.overwrite_payload(COLLECTION, {"city": "Paname"}, points=[3])
    cities.delete_payload(COLLECTION, ["population"], points=[1])
    cities.clear_payload(
        COLLECTION, models.FilterSelector(filter=models.Filter(must=[country("NO")]))
    )
    got = {r.id: r.payload for r in cities.retrieve(COLLECTION, [1, 2, 3, 5])}
    assert got[1] == {"city": "Berlin", "country": "DE", "visited": True}
    assert got[2]["visited"] is True and got[2]["population"] == 1.5
    assert got[3] == {"city": "Paname"}
    assert got[5] == {}


def test_update_modes_and_conditional_upsert(cities: QdrantClient) -> None:
    cities.upsert(
        COLLECTION,
        [
            models.PointStruct(id=1, vector=[0, 0, 0, 1], payload={"city": "changed"}),
            models.PointStruct(id=99, vector=[0, 0, 0, 1], payload={"city": "new"}),
        ],
        update_mode=models.UpdateMode.INSERT_ONLY,
    )
    got = {r.id: r.payload["city"] for r in cities.retrieve(COLLECTION, [1, 99])}
    assert got == {1: "Berlin", 99: "new"}  # existing point left alone
    cities.upsert(
        COLLECTION,
        [
            models.PointStruct(id=1, vector=[1, 0, 0, 0], payload={"city": "Berlin2"}),
            models.PointStruct(id=3, vector=[0, 1, 0, 0], payload={"city": "Paris2"}),
        ],
        update_filter=models.Filter(must=[country("DE")]),  # only points that match change
    )
    got = {r.id: r.payload["city"] for r in cities.retrieve(COLLECTION, [1, 3])}
    assert got == {1: "Berlin2", 3: "Paris"}


def test_wait_false_is_acknowledged_and_applied(client: QdrantClient) -> None:
    client.create_collection("w", models.VectorParams(size=2, distance=models.Distance.DOT))
    result = client.upsert("w", [models.PointStruct(id=1, vector=[1, 2])], wait=False)
    assert result.status == models.UpdateStatus.ACKNOWLEDGED
    assert client.count("w").count == 1


def test_cosine_vectors_come_back_normalised_with_float32_digits(client: QdrantClient) -> None:
    client.create_collection("cos", models.VectorParams(size=2, distance=models.Distance.COSINE))
    client.upsert("cos", [models.PointStruct(id=1, vector=[3, 4])])
    hit = client.query_points("cos", query=[3, 4], with_vectors=True).points[0]
    assert hit.vector == [0.6, 0.8]
    assert hit.score == pytest.approx(1.0, abs=1e-6)


def test_legacy_search_endpoint(cities: QdrantClient, http) -> None:
    response = http.post(
        f"/collections/{COLLECTION}/points/search",
        json={"vector": [0, 1, 0, 0], "limit": 2, "with_payload": True},
    )
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["result"]] == [3, 4]


def test_query_batch(cities: QdrantClient) -> None:
    responses = cities.query_batch_points(
        COLLECTION,
        [
            models.QueryRequest(query=[1, 0, 0, 0], limit=1),
            models.QueryRequest(query=[0, 0, 1, 0], limit=1),
        ],
    )
    assert [ids(r.points) for r in responses] == [[1], [5]]
