"""Point reads: retrieve, scroll, count, query, search."""

from __future__ import annotations

from typing import Annotated

import qdrant_edge as qe
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from ._body import json_body
from ._deps import StorageDep
from ._errors import point_not_found
from ._filters import to_edge as filter_to_edge
from ._ids import id_out, path_point_id
from ._models import CountRequest, PointRequest, QueryBatch, QueryRequest, ScrollRequest
from ._models import SearchRequest as SearchBody
from ._query import (
    build_query,
    build_search,
    order_by,
    record_out,
    scored_out,
    with_payload,
    with_vector,
)
from ._responses import Timer, ok

router = APIRouter()


@router.get("/collections/{collection_name}/points/{point_id}")
def get_point(collection_name: str, point_id: str, storage: StorageDep) -> JSONResponse:
    timer = Timer()
    pid = path_point_id(point_id)
    with storage.use(collection_name) as collection:
        records = collection.engine(collection.shard.retrieve, [pid], True, True)
    if not records:
        raise point_not_found(pid)
    return ok(record_out(records[0]), timer)


@router.post("/collections/{collection_name}/points")
def get_points(
    collection_name: str,
    body: Annotated[PointRequest, Depends(json_body(PointRequest))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name) as collection:
        records = collection.engine(
            collection.shard.retrieve,
            body.ids,
            with_payload(body.with_payload, default=True),
            with_vector(body.with_vector),
        )
    return ok([record_out(r) for r in records], timer)


@router.post("/collections/{collection_name}/points/scroll")
def scroll_points(
    collection_name: str,
    body: Annotated[ScrollRequest, Depends(json_body(ScrollRequest))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    request = qe.ScrollRequest(
        offset=body.offset,
        limit=body.limit or 10,
        filter=filter_to_edge(body.filter),
        with_payload=with_payload(body.with_payload, default=True),
        with_vector=with_vector(body.with_vector),
        order_by=order_by(body.order_by) if body.order_by is not None else None,
    )
    with storage.use(collection_name) as collection:
        records, next_offset = collection.engine(collection.shard.scroll, request)
    next_page = None if next_offset is None else id_out(next_offset)
    return ok({"points": [record_out(r) for r in records], "next_page_offset": next_page}, timer)


@router.post("/collections/{collection_name}/points/count")
def count_points(
    collection_name: str,
    body: Annotated[CountRequest, Depends(json_body(CountRequest))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    request = qe.CountRequest(exact=body.exact, filter=filter_to_edge(body.filter))
    with storage.use(collection_name) as collection:
        count = collection.engine(collection.shard.count, request)
    return ok({"count": count}, timer)


@router.post("/collections/{collection_name}/points/query")
def query_points(
    collection_name: str,
    body: Annotated[QueryRequest, Depends(json_body(QueryRequest))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name) as collection:
        points = collection.engine(collection.shard.query, build_query(collection, body))
    return ok({"points": [scored_out(p) for p in points]}, timer)


@router.post("/collections/{collection_name}/points/query/batch")
def query_batch(
    collection_name: str,
    body: Annotated[QueryBatch, Depends(json_body(QueryBatch))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name) as collection:
        requests = [build_query(collection, search) for search in body.searches]
        results = [collection.engine(collection.shard.query, r) for r in requests]
    return ok([{"points": [scored_out(p) for p in points]} for points in results], timer)


@router.post("/collections/{collection_name}/points/search")
def search_points(
    collection_name: str,
    body: Annotated[SearchBody, Depends(json_body(SearchBody))],
    storage: StorageDep,
) -> JSONResponse:
    timer = Timer()
    with storage.use(collection_name) as collection:
        points = collection.engine(collection.shard.query, build_search(collection, body))
    return ok([scored_out(p) for p in points], timer)
