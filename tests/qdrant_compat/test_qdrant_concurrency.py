"""Many clients at once: no lost writes, no 500s, deletes racing with readers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from qdrant_client import QdrantClient, models

WORKERS = 8
POINTS_PER_WORKER = 25


def test_parallel_writers_and_readers(client: QdrantClient, server, connect) -> None:
    client.create_collection("busy", models.VectorParams(size=3, distance=models.Distance.DOT))

    def work(worker: int) -> int:
        mine = connect(server.url)
        for i in range(POINTS_PER_WORKER):
            point_id = worker * 1000 + i
            mine.upsert(
                "busy",
                [models.PointStruct(id=point_id, vector=[1, worker, i], payload={"w": worker})],
            )
            mine.query_points("busy", query=[1, 1, 1], limit=3)
            mine.scroll("busy", limit=5)
        flt = models.Filter(
            must=[models.FieldCondition(key="w", match=models.MatchValue(value=worker))]
        )
        return mine.count("busy", count_filter=flt).count

    with ThreadPoolExecutor(WORKERS) as pool:
        per_worker = list(pool.map(work, range(WORKERS)))

    assert per_worker == [POINTS_PER_WORKER] * WORKERS
    assert client.count("busy").count == WORKERS * POINTS_PER_WORKER


def test_delete_while_reading_answers_200_or_404(client: QdrantClient, server) -> None:
    client.create_collection("doomed", models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("doomed", [models.PointStruct(id=i, vector=[i, 1]) for i in range(50)])

    def read(_: int) -> set[int]:
        statuses = set()
        with httpx.Client(base_url=server.url, timeout=10.0) as raw:
            for _ in range(20):
                response = raw.post("/collections/doomed/points/query", json={"query": [1, 1]})
                statuses.add(response.status_code)
        return statuses

    with ThreadPoolExecutor(WORKERS) as pool:
        readers = [pool.submit(read, n) for n in range(WORKERS)]
        assert client.delete_collection("doomed") is True
        statuses = set().union(*(r.result() for r in readers))

    assert statuses <= {200, 404}
    assert client.collection_exists("doomed") is False
