"""Request bodies of the REST API, as Qdrant shapes them (unknown fields rejected)."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from ._filters import Filter, Strict
from ._ids import PointId

Distance = Literal["Cosine", "Euclid", "Dot", "Manhattan"]
DenseVector = list[float]


class PayloadInclude(Strict):
    include: list[str]


class PayloadExclude(Strict):
    exclude: list[str]


WithPayload = Union[bool, list[str], PayloadInclude, PayloadExclude]
WithVector = Union[bool, list[str]]


class SparseVector(Strict):
    indices: list[int]
    values: list[float]

    @model_validator(mode="after")
    def _consistent(self) -> SparseVector:
        if len(self.indices) != len(self.values):
            raise PydanticCustomError("constraint", "indices and values must have the same length")
        if len(set(self.indices)) != len(self.indices):
            raise PydanticCustomError("constraint", "indices must be unique")
        if any(i < 0 or i >= 2**32 for i in self.indices):
            raise PydanticCustomError("constraint", "indices must fit an unsigned 32-bit integer")
        return self


# A point's vectors: one unnamed dense vector, or named dense/sparse vectors.
VectorStruct = Union[DenseVector, dict[str, Union[DenseVector, SparseVector]]]


class Ignored(BaseModel):
    """Settings accepted for compatibility and ignored: the engine picks its own."""

    model_config = {"extra": "allow"}


# ---- collections ---------------------------------------------------------------------


class VectorParams(Strict):
    size: int = Field(ge=1, le=65536)
    distance: Distance
    hnsw_config: Ignored | None = None
    quantization_config: Ignored | None = None
    on_disk: bool | None = None
    memory: str | None = None
    datatype: str | None = None
    multivector_config: None = None  # multivectors are not supported


class SparseIndexParams(Strict):
    full_scan_threshold: int | None = None
    on_disk: bool | None = None
    datatype: str | None = None


class SparseVectorParams(Strict):
    index: SparseIndexParams | None = None
    modifier: Literal["none", "idf"] | None = None


class CreateCollection(Strict):
    vectors: VectorParams | dict[str, VectorParams] | None = None
    sparse_vectors: dict[str, SparseVectorParams] | None = None
    metadata: dict[str, Any] | None = None
    # Cluster and tuning knobs a single-node engine shard has no use for.
    shard_number: int | None = None
    sharding_method: str | None = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    on_disk_payload: bool | None = None
    payload: Ignored | None = None
    id_tracker: Ignored | None = None
    hnsw_config: Ignored | None = None
    wal_config: Ignored | None = None
    optimizers_config: Ignored | None = None
    quantization_config: Ignored | None = None
    strict_mode_config: Ignored | None = None


class CreateFieldIndex(Strict):
    field_name: str
    field_schema: str | dict[str, Any]


# ---- points --------------------------------------------------------------------------


class PointStruct(Strict):
    id: PointId
    vector: VectorStruct
    payload: dict[str, Any] | None = None


class Batch(Strict):
    ids: list[PointId]
    vectors: list[DenseVector] | dict[str, list[Union[DenseVector, SparseVector]]]
    payloads: list[dict[str, Any] | None] | None = None


UpdateMode = Literal["upsert", "insert_only", "update_only"]


class UpsertPoints(Strict):
    """`PointsList` or `PointsBatch`: Qdrant tells them apart by `points`/`batch`."""

    points: list[PointStruct] | None = None
    batch: Batch | None = None
    shard_key: Any = None
    update_filter: Filter | None = None
    update_mode: UpdateMode | None = None

    @model_validator(mode="after")
    def _one_form(self) -> UpsertPoints:
        if (self.points is None) == (self.batch is None):
            raise PydanticCustomError("format", "expected either `points` or `batch`")
        return self


class PointsSelector(Strict):
    """`PointIdsList` or `FilterSelector`."""

    points: list[PointId] | None = None
    filter: Filter | None = None
    shard_key: Any = None

    @model_validator(mode="after")
    def _one_form(self) -> PointsSelector:
        if (self.points is None) == (self.filter is None):
            raise PydanticCustomError("format", "expected either `points` or `filter`")
        return self


class SetPayload(Strict):
    payload: dict[str, Any]
    points: list[PointId] | None = None
    filter: Filter | None = None
    key: str | None = None
    shard_key: Any = None

    @model_validator(mode="after")
    def _one_form(self) -> SetPayload:
        if (self.points is None) == (self.filter is None):
            raise PydanticCustomError("format", "expected either `points` or `filter`")
        return self


class DeletePayload(Strict):
    keys: list[str]
    points: list[PointId] | None = None
    filter: Filter | None = None
    shard_key: Any = None

    @model_validator(mode="after")
    def _one_form(self) -> DeletePayload:
        if (self.points is None) == (self.filter is None):
            raise PydanticCustomError("format", "expected either `points` or `filter`")
        return self


class PointRequest(Strict):
    ids: list[PointId]
    with_payload: WithPayload | None = None
    with_vector: WithVector | None = None
    shard_key: Any = None


class SearchParams(Strict):
    hnsw_ef: int | None = Field(default=None, ge=0)
    exact: bool | None = None
    indexed_only: bool | None = None
    quantization: Ignored | None = None
    acorn: Ignored | None = None


class QueryRequest(Strict):
    query: Any = None  # vector, point id or query object; see _query.py
    using: str | None = None
    filter: Filter | None = None
    params: SearchParams | None = None
    score_threshold: float | None = None
    limit: int | None = Field(default=None, ge=1)
    offset: int | None = Field(default=None, ge=0)
    with_payload: WithPayload | None = None
    with_vector: WithVector | None = None
    prefetch: Any = None
    lookup_from: Any = None
    shard_key: Any = None


class QueryBatch(Strict):
    searches: list[QueryRequest]


class NamedVector(Strict):
    name: str
    vector: DenseVector


class NamedSparseVector(Strict):
    name: str
    vector: SparseVector


class SearchRequest(Strict):
    vector: DenseVector | NamedVector | NamedSparseVector
    filter: Filter | None = None
    params: SearchParams | None = None
    limit: int = Field(ge=1)
    offset: int | None = Field(default=None, ge=0)
    with_payload: WithPayload | None = None
    with_vector: WithVector | None = None
    score_threshold: float | None = None
    shard_key: Any = None


class OrderBy(Strict):
    key: str
    direction: Literal["asc", "desc"] | None = None
    start_from: int | float | str | None = None


class ScrollRequest(Strict):
    offset: PointId | None = None
    limit: int | None = Field(default=None, ge=1)
    filter: Filter | None = None
    with_payload: WithPayload | None = None
    with_vector: WithVector | None = None
    order_by: str | OrderBy | None = None
    shard_key: Any = None


class CountRequest(Strict):
    filter: Filter | None = None
    exact: bool = True
    shard_key: Any = None
