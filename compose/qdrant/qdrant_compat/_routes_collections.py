"""`/collections` endpoints: list, create, inspect, delete, payload indexes."""

from __future__ import annotations

from typing import Annotated, Any

import qdrant_edge as qe
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ._body import json_body
from ._deps import StorageDep, update_result
from ._errors import format_error
from ._models import CreateCollection, CreateFieldIndex, UpdateCollection
from ._responses import Timer, ok
from ._storage import Collection, CollectionConfig

router = APIRouter()

_SCHEMA_TYPES = {
    "keyword": qe.PayloadSchemaType.Keyword,
    "integer": qe.PayloadSchemaType.Integer,
    "float": qe.PayloadSchemaType.Float,
    "geo": qe.PayloadSchemaType.Geo,
    "text": qe.PayloadSchemaType.Text,
    "bool": qe.PayloadSchemaType.Bool,
    "datetime": qe.PayloadSchemaType.Datetime,
    "uuid": qe.PayloadSchemaType.Uuid,
}
_SCHEMA_NAMES = {engine: name for name, engine in _SCHEMA_TYPES.items()}

# Fixed settings reported by collection info: the engine does not expose its own.
_HNSW = {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0}
_OPTIMIZERS = {
    "deleted_threshold": 0.2,
    "vacuum_min_vector_number": 1000,
    "default_segment_number": 0,
    "max_segment_size": None,
    "memmap_threshold": None,
    "indexing_threshold": 10000,
    "flush_interval_sec": 5,
    "max_optimization_threads": None,
}
_WAL = {"wal_capacity_mb": 32, "wal_segments_ahead": 0}


def _params(config: CollectionConfig) -> dict[str, Any]:
    def vector(p: Any) -> dict[str, Any]:
        return {"size": p.size, "distance": p.distance}

    vectors: Any = None
    if config.vectors is not None:
        dense = config.dense
        vectors = vector(dense[""]) if "" in dense else {n: vector(p) for n, p in dense.items()}
    params: dict[str, Any] = {
        "vectors": vectors,
        "shard_number": 1,
        "replication_factor": 1,
        "write_consistency_factor": 1,
        "on_disk_payload": True,
    }
    if config.sparse:
        params["sparse_vectors"] = {
            name: ({"modifier": p.modifier} if p.modifier else {})
            for name, p in config.sparse.items()
        }
    return params


def _info(collection: Collection) -> dict[str, Any]:
    info = collection.engine(collection.shard.info)
    config = collection.config
    result: dict[str, Any] = {
        "status": "green",
        "optimizer_status": "ok",
        "indexed_vectors_count": info.indexed_vectors_count,
        "points_count": info.points_count,
        "segments_count": info.segments_count,
        "config": {
            "params": _params(config),
            "hnsw_config": _HNSW,
            "optimizer_config": _OPTIMIZERS,
            "wal_config": _WAL,
            "quantization_config": None,
            "strict_mode_config": {"enabled": False},
        },
        "payload_schema": {
            key: {
                "data_type": _SCHEMA_NAMES.get(index.data_type, "keyword"),
                "points": index.points,
            }
            for key, index in info.payload_schema.items()
        },
    }
    if config.metadata is not None:
        result["config"]["metadata"] = config.metadata
    if config.created_at is not None:
        result["created_at"] = config.created_at
    return result


@router.get("/collections")
def list_collections(storage: StorageDep) -> JSONResponse:
    timer = Timer()
    return ok({"collections": [{"name": name} for name in storage.names()]}, timer)


@router.get("/collections/{collection_name}")
def get_collection(collection_name: str, storage: StorageDep) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name) as collection:
        return ok(_info(collection), timer)


@router.get("/collections/{collection_name}/exists")
def collection_exists(collection_name: str, storage: StorageDep) -> JSONResponse:
    timer = Timer()
    return ok({"exists": storage.exists(collection_name)}, timer)


@router.put("/collections/{collection_name}")
def create_collection(
    collection_name: str,
    body: Annotated[CreateCollection, Depends(json_body(CreateCollection))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    config = CollectionConfig(
        vectors=body.vectors, sparse_vectors=body.sparse_vectors, metadata=body.metadata
    )
    storage.create(collection_name, config)
    return ok(True, timer)


@router.patch("/collections/{collection_name}")
def update_collection(
    collection_name: str,
    body: Annotated[UpdateCollection, Depends(json_body(UpdateCollection))],
    storage: StorageDep,
) -> JSONResponse:
    # Apart from metadata only tuning knobs change here; the engine picks those itself.
    timer = Timer()
    with storage.use(collection_name) as collection:
        if body.metadata is not None:
            # As Qdrant: merged into the existing metadata; an empty object clears it.
            merged = {**(collection.config.metadata or {}), **body.metadata}
            collection.config.metadata = merged if body.metadata else None
            storage.save_config(collection)
        return ok(True, timer)


@router.get("/aliases")
def list_aliases(storage: StorageDep) -> JSONResponse:
    return ok({"aliases": []}, Timer())  # aliases cannot be created here


@router.get("/collections/{collection_name}/aliases")
def collection_aliases(collection_name: str, storage: StorageDep) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name):
        return ok({"aliases": []}, timer)


@router.delete("/collections/{collection_name}")
def delete_collection(collection_name: str, storage: StorageDep) -> JSONResponse:
    timer = Timer()
    return ok(storage.delete(collection_name), timer)


def _schema_type(schema: str | dict[str, Any]) -> Any:
    name = schema if isinstance(schema, str) else schema.get("type")
    if name not in _SCHEMA_TYPES:
        raise format_error(
            "JSON body",
            f"field_schema: unknown type {name!r}, expected one of {list(_SCHEMA_TYPES)}",
        )
    return _SCHEMA_TYPES[name]


@router.put("/collections/{collection_name}/index")
def create_field_index(
    collection_name: str,
    body: Annotated[CreateFieldIndex, Depends(json_body(CreateFieldIndex))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    schema = _schema_type(body.field_schema)
    operation = qe.UpdateOperation.create_field_index(body.field_name, schema)
    with storage.use(collection_name) as collection:
        collection.engine(collection.shard.update, operation)
        return ok(update_result(collection, wait), timer)


@router.delete("/collections/{collection_name}/index/{field_name}")
def delete_field_index(
    collection_name: str, field_name: str, storage: StorageDep, wait: bool | None = None
) -> JSONResponse:
    timer = Timer()
    operation = qe.UpdateOperation.delete_field_index(field_name)
    with storage.use(collection_name) as collection:
        collection.engine(collection.shard.update, operation)
        return ok(update_result(collection, wait), timer)
