"""Vectors in and out of the engine.

Writes are checked here in full before they reach the engine: an update the engine
rejects is still appended to its WAL and half-replayed on the next load.
"""

from __future__ import annotations

import struct
from typing import Any

import qdrant_edge as qe

from ._errors import bad_input, format_error
from ._models import Batch, DenseVector, PointStruct, SparseVector, VectorStruct
from ._storage import CollectionConfig

_F32 = struct.Struct("<f")


def _check_dense(config: CollectionConfig, name: str, vector: list[float]) -> list[float]:
    params = config.dense.get(name)
    if params is None:
        if name in config.sparse:
            raise bad_input("Conversion between sparse and regular vectors failed")
        raise bad_input(f"Not existing vector name error: {name}")
    if len(vector) != params.size:
        raise bad_input(f"Vector dimension error: expected dim: {params.size}, got {len(vector)}")
    return vector


def _check_sparse(config: CollectionConfig, name: str, vector: SparseVector) -> Any:
    if name not in config.sparse:
        if name in config.dense:
            raise bad_input("Conversion between sparse and regular vectors failed")
        raise bad_input(f"Not existing vector name error: {name}")
    return qe.SparseVector(vector.indices, vector.values)


def point_vector(config: CollectionConfig, vector: VectorStruct) -> Any:
    """A point's vectors as the engine takes them, checked against the collection."""
    if isinstance(vector, list):
        return _check_dense(config, "", vector)
    out: dict[str, Any] = {}
    for name, value in vector.items():
        if isinstance(value, SparseVector):
            out[name] = _check_sparse(config, name, value)
        else:
            out[name] = _check_dense(config, name, value)
    return out


def query_vector(config: CollectionConfig, using: str, vector: DenseVector | SparseVector) -> Any:
    if isinstance(vector, SparseVector):
        return _check_sparse(config, using, vector)
    return _check_dense(config, using, vector)


def _point(point_id: Any, vector: Any, payload: dict[str, Any] | None) -> Any:
    try:
        return qe.Point(point_id, vector, payload)
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a payload int beyond int64
        raise format_error("JSON body", f"point {point_id}: {exc}") from exc


def points_from_list(config: CollectionConfig, points: list[PointStruct]) -> list[Any]:
    return [_point(p.id, point_vector(config, p.vector), p.payload) for p in points]


def points_from_batch(config: CollectionConfig, batch: Batch) -> list[Any]:
    count = len(batch.ids)
    if batch.payloads is not None and len(batch.payloads) != count:
        raise bad_input(f"number of payloads ({len(batch.payloads)}) != number of ids ({count})")
    vectors: list[Any]
    if isinstance(batch.vectors, list):
        if len(batch.vectors) != count:
            raise bad_input(f"number of vectors ({len(batch.vectors)}) != number of ids ({count})")
        vectors = [point_vector(config, v) for v in batch.vectors]
    else:
        vectors = [{} for _ in range(count)]
        for name, column in batch.vectors.items():
            if len(column) != count:
                raise bad_input(
                    f"number of `{name}` vectors ({len(column)}) != number of ids ({count})"
                )
            for row, value in zip(vectors, column, strict=True):
                row.update(point_vector(config, {name: value}))
    payloads = batch.payloads or [None] * count
    return [_point(i, v, p) for i, v, p in zip(batch.ids, vectors, payloads, strict=True)]


def f32(value: float) -> float:
    """The shortest decimal that is the same float32, as Qdrant prints its floats."""
    try:
        target = _F32.pack(value)
    except (OverflowError, struct.error):  # not a float32 at all: print it as it is
        return value
    for digits in (6, 7, 8):
        candidate = float(f"{value:.{digits}g}")
        if _F32.pack(candidate) == target:
            return candidate
    return float(f"{value:.9g}")


def vector_out(vector: Any) -> Any:
    if vector is None:
        return None
    if isinstance(vector, dict):
        return {name: vector_out(v) for name, v in vector.items()}
    if isinstance(vector, list):
        return [vector_out(v) if isinstance(v, list) else f32(v) for v in vector]
    if hasattr(vector, "indices"):  # qe.SparseVector
        return {"indices": list(vector.indices), "values": [f32(v) for v in vector.values]}
    return vector
