"""Point writes: upsert, delete, payload updates."""

from __future__ import annotations

from typing import Annotated, Any

import qdrant_edge as qe
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ._body import json_body
from ._deps import StorageDep, update_result
from ._filters import to_edge as filter_to_edge
from ._models import DeletePayload, PointsSelector, SetPayload, UpsertPoints
from ._responses import Timer, ok
from ._storage import Storage
from ._vectors import points_from_batch, points_from_list

router = APIRouter()
Op = qe.UpdateOperation
_MODES = {
    "upsert": qe.UpdateMode.Upsert,
    "insert_only": qe.UpdateMode.InsertOnly,
    "update_only": qe.UpdateMode.UpdateOnly,
}


def _apply(storage: Storage, name: str, operation: Any, wait: bool | None) -> dict[str, Any]:
    with storage.use(name) as collection:
        collection.engine(collection.shard.update, operation)
        return update_result(collection, wait)


@router.put("/collections/{collection_name}/points")
def upsert_points(
    collection_name: str,
    body: Annotated[UpsertPoints, Depends(json_body(UpsertPoints))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name) as collection:
        # Checked against the collection before the engine sees (and logs) anything.
        if body.points is not None:
            points = points_from_list(collection.config, body.points)
        else:
            assert body.batch is not None  # guaranteed by UpsertPoints' validator
            points = points_from_batch(collection.config, body.batch)
        operation = Op.upsert_points(
            points,
            condition=filter_to_edge(body.update_filter),
            update_mode=_MODES[body.update_mode] if body.update_mode else None,
        )
        collection.engine(collection.shard.update, operation)
        return ok(update_result(collection, wait), timer)


@router.post("/collections/{collection_name}/points/delete")
def delete_points(
    collection_name: str,
    body: Annotated[PointsSelector, Depends(json_body(PointsSelector))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    if body.points is not None:
        operation = Op.delete_points(body.points)
    else:
        operation = Op.delete_points_by_filter(filter_to_edge(body.filter))
    return ok(_apply(storage, collection_name, operation, wait), timer)


def _set_payload(body: SetPayload, overwrite: bool) -> Any:
    if body.points is not None:
        by_ids = Op.overwrite_payload if overwrite else Op.set_payload
        return by_ids(body.points, body.payload, body.key)
    by_filter = Op.overwrite_payload_by_filter if overwrite else Op.set_payload_by_filter
    return by_filter(filter_to_edge(body.filter), body.payload, body.key)


@router.post("/collections/{collection_name}/points/payload")
def set_payload(
    collection_name: str,
    body: Annotated[SetPayload, Depends(json_body(SetPayload))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    return ok(_apply(storage, collection_name, _set_payload(body, False), wait), timer)


@router.put("/collections/{collection_name}/points/payload")
def overwrite_payload(
    collection_name: str,
    body: Annotated[SetPayload, Depends(json_body(SetPayload))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    return ok(_apply(storage, collection_name, _set_payload(body, True), wait), timer)


@router.post("/collections/{collection_name}/points/payload/delete")
def delete_payload(
    collection_name: str,
    body: Annotated[DeletePayload, Depends(json_body(DeletePayload))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    if body.points is not None:
        operation = Op.delete_payload(body.points, body.keys)
    else:
        operation = Op.delete_payload_by_filter(filter_to_edge(body.filter), body.keys)
    return ok(_apply(storage, collection_name, operation, wait), timer)


@router.post("/collections/{collection_name}/points/payload/clear")
def clear_payload(
    collection_name: str,
    body: Annotated[PointsSelector, Depends(json_body(PointsSelector))],
    storage: StorageDep,
    wait: bool | None = None,
) -> JSONResponse:
    timer = Timer()
    if body.points is not None:
        operation = Op.clear_payload(body.points)
    else:
        operation = Op.clear_payload_by_filter(filter_to_edge(body.filter))
    return ok(_apply(storage, collection_name, operation, wait), timer)
