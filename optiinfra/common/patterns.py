"""The learning store: one Qdrant point per finished optimization, its features the vector."""

from __future__ import annotations

import uuid

from qdrant_client import QdrantClient, models

from .learning import VECTOR_SIZE

PATTERN_NAMESPACE = uuid.UUID("5b0c3a57-8a3e-4d0e-9a55-0f7a0e9c1d2b")


def pattern_id(optimization_id: str) -> str:
    """Deterministic, so storing the pattern of one optimization twice is one point."""
    return str(uuid.uuid5(PATTERN_NAMESPACE, optimization_id))


class PatternStore:
    def __init__(self, url: str, collection: str) -> None:
        self.client = QdrantClient(url=url, timeout=10, check_compatibility=False)
        self.collection = collection
        self._ready = False

    def ensure_collection(self) -> None:
        if self._ready:
            return
        if not self.client.collection_exists(self.collection):
            try:
                self.client.create_collection(
                    self.collection, vectors_config=models.VectorParams(
                        size=VECTOR_SIZE, distance=models.Distance.COSINE))
            except Exception:
                if not self.client.collection_exists(self.collection):  # lost a race: fine
                    raise
        self._ready = True

    def store(self, optimization_id: str, vector: list[float], payload: dict) -> str:
        self.ensure_collection()
        pid = pattern_id(optimization_id)
        self.client.upsert(self.collection, points=[
            models.PointStruct(id=pid, vector=vector, payload=payload)], wait=True)
        return pid

    def similar(self, vector: list[float], limit: int = 5,
                min_score: float = 0.8) -> list[dict]:
        self.ensure_collection()
        resp = self.client.query_points(self.collection, query=vector, limit=limit,
                                        with_payload=True, score_threshold=min_score)
        return [{"id": str(p.id), "score": round(p.score, 4),
                 "outcome": (p.payload or {}).get("outcome"),
                 "savings_pct": (p.payload or {}).get("savings_pct"),
                 "optimization_kind": (p.payload or {}).get("kind")} for p in resp.points]

    def for_customer(self, customer_id: str, limit: int = 100) -> list[dict]:
        self.ensure_collection()
        flt = models.Filter(must=[models.FieldCondition(
            key="customer_id", match=models.MatchValue(value=customer_id))])
        points, _ = self.client.scroll(self.collection, scroll_filter=flt, limit=limit,
                                       with_payload=True)
        return [{"id": str(p.id), "collection": self.collection, **(p.payload or {})}
                for p in points]
