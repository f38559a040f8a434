"""Read requests (query, search, scroll) turned into engine requests, and results back."""

from __future__ import annotations

from typing import Any

import qdrant_edge as qe
from pydantic import TypeAdapter, ValidationError

from ._errors import bad_input, bad_request, format_error, from_validation, point_not_found
from ._filters import to_edge as filter_to_edge
from ._ids import id_out, require_id
from ._models import (
    DenseVector,
    OrderBy,
    PayloadExclude,
    PayloadInclude,
    QueryRequest,
    SearchParams,
    SearchRequest,
    SparseVector,
    WithPayload,
    WithVector,
)
from ._storage import Collection
from ._vectors import f32, query_vector, vector_out

_DENSE = TypeAdapter(list[float], config={"strict": True})
_UNSUPPORTED_QUERIES = (
    "fusion", "rrf", "recommend", "discover", "context", "formula", "sample",
    "relevance_feedback", "text", "text_query", "mmr",
)  # fmt: skip


def with_payload(value: WithPayload | None, default: bool) -> Any:
    if value is None:
        return default
    if isinstance(value, PayloadInclude):
        return qe.PayloadSelector.Include(value.include)
    if isinstance(value, PayloadExclude):
        return qe.PayloadSelector.Exclude(value.exclude)
    return value


def with_vector(value: WithVector | None, default: bool = False) -> bool | list[str]:
    return default if value is None else value


def search_params(params: SearchParams | None) -> Any:
    if params is None:
        return None
    return qe.SearchParams(
        hnsw_ef=params.hnsw_ef, exact=bool(params.exact), indexed_only=bool(params.indexed_only)
    )


def order_by(value: str | OrderBy) -> Any:
    if isinstance(value, str):
        return qe.OrderBy(value)
    direction = {"asc": qe.Direction.Asc, "desc": qe.Direction.Desc, None: None}[value.direction]
    return qe.OrderBy(value.key, direction, value.start_from)


def _validated(adapter_or_model: Any, value: Any) -> Any:
    try:
        if isinstance(adapter_or_model, TypeAdapter):
            return adapter_or_model.validate_python(value)
        return adapter_or_model.model_validate(value)
    except ValidationError as exc:
        raise from_validation(exc, "JSON body") from exc


def _vector_of_point(collection: Collection, point_id: int | str, using: str) -> Any:
    records = collection.engine(collection.shard.retrieve, [point_id], False, True)
    if not records:
        raise point_not_found(point_id)
    vector = records[0].vector
    if isinstance(vector, dict):
        vector = vector.get(using)
    if vector is None:
        raise bad_input(f"Vector `{using}` is not found in point {point_id}")
    return vector


def _scoring(collection: Collection, query: Any, using: str) -> tuple[Any, list[int | str]]:
    """The engine's scoring query, and the point ids it must leave out of the results."""
    name = using or None
    config = collection.config
    if query is None:
        return None, []
    if isinstance(query, list):
        if query and isinstance(query[0], list):
            raise bad_request("multivectors are not supported by this server")
        vector = query_vector(config, using, _validated(_DENSE, query))
        return qe.Query.Nearest(vector, using=name), []
    if isinstance(query, (int, str)) and not isinstance(query, bool):
        point_id = require_id(query)  # "recommend by id": the point itself is left out
        return qe.Query.Nearest(_vector_of_point(collection, point_id, using), using=name), [
            point_id
        ]
    if isinstance(query, dict):
        if "indices" in query:
            vector = query_vector(config, using, _validated(SparseVector, query))
            return qe.Query.Nearest(vector, using=name), []
        if set(query) == {"nearest"}:
            if isinstance(query["nearest"], dict) and "indices" not in query["nearest"]:
                raise format_error("JSON body", "query.nearest: expected a vector or a point id")
            return _scoring(collection, query["nearest"], using)
        if set(query) == {"order_by"}:
            value = query["order_by"]
            parsed = value if isinstance(value, str) else _validated(OrderBy, value)
            return order_by(parsed), []
        for kind in _UNSUPPORTED_QUERIES:
            if kind in query:
                raise bad_request(f"query `{kind}` is not supported by this server")
    raise format_error("JSON body", "query: expected a vector, a point id, `nearest` or `order_by`")


def _exclude(filter_: Any, point_ids: list[int | str]) -> Any:
    if not point_ids:
        return filter_
    must_not: list[Any] = [qe.HasIdCondition(set(point_ids))]
    return qe.Filter(must=[filter_] if filter_ is not None else None, must_not=must_not)


def build_query(collection: Collection, request: QueryRequest) -> Any:
    if request.prefetch is not None:
        raise bad_request("`prefetch` is not supported by this server")
    if request.lookup_from is not None:
        raise bad_request("`lookup_from` is not supported by this server")
    scoring, exclude = _scoring(collection, request.query, request.using or "")
    return qe.QueryRequest(
        limit=request.limit or 10,
        offset=request.offset or 0,
        query=scoring,
        filter=_exclude(filter_to_edge(request.filter), exclude),
        score_threshold=request.score_threshold,
        params=search_params(request.params),
        with_payload=with_payload(request.with_payload, default=False),
        with_vector=with_vector(request.with_vector),
    )


def build_search(collection: Collection, request: SearchRequest) -> Any:
    """The legacy `/points/search` body, run as the equivalent query."""
    vector: DenseVector | SparseVector
    if isinstance(request.vector, list):
        using, vector = "", request.vector
    else:
        using, vector = request.vector.name, request.vector.vector
    checked = query_vector(collection.config, using, vector)
    return qe.QueryRequest(
        limit=request.limit,
        offset=request.offset or 0,
        query=qe.Query.Nearest(checked, using=using or None),
        filter=filter_to_edge(request.filter),
        score_threshold=request.score_threshold,
        params=search_params(request.params),
        with_payload=with_payload(request.with_payload, default=False),
        with_vector=with_vector(request.with_vector),
    )


def record_out(record: Any) -> dict[str, Any]:
    out = {
        "id": id_out(record.id),
        "payload": record.payload,
        "vector": vector_out(record.vector),
    }
    if record.order_value is not None:
        out["order_value"] = record.order_value
    return out


def scored_out(point: Any) -> dict[str, Any]:
    out = {
        "id": id_out(point.id),
        "version": point.version,
        "score": f32(point.score),
        "payload": point.payload,
        "vector": vector_out(point.vector),
    }
    if point.order_value is not None:
        out["order_value"] = point.order_value
    return out
