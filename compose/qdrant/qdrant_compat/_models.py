"""Request bodies of the REST API, as Qdrant shapes them (unknown fields rejected)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from ._filters import Filter, Strict
from ._ids import PointId

Distance = Literal["Cosine", "Euclid", "Dot", "Manhattan"]
DenseVector = list[float]


class PayloadInclude(Strict):
    include: list[str]


class PayloadExclude(Strict):
    exclude: list[str]


WithPayload = bool | list[str] | PayloadInclude | PayloadExclude
WithVector = bool | list[str]


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


# Union tags start with "~": error messages leave them out of field locations.
def _by_json_type(list_model: Any, dict_model: Any) -> Any:
    """A union told apart by JSON type, so errors name only the branch that was meant."""
    return Annotated[
        Annotated[list_model, Tag("~list")] | Annotated[dict_model, Tag("~dict")],
        Discriminator(lambda v: "~list" if isinstance(v, list) else "~dict"),
    ]


# A point's vectors: one unnamed dense vector, or named dense/sparse vectors.
if TYPE_CHECKING:  # what the validated values are; pydantic gets the tagged versions
    NamedVectorValue = DenseVector | SparseVector
    VectorStruct = DenseVector | dict[str, NamedVectorValue]
    BatchVectors = list[DenseVector] | dict[str, list[NamedVectorValue]]
else:
    NamedVectorValue = _by_json_type(DenseVector, SparseVector)
    VectorStruct = _by_json_type(DenseVector, dict[str, NamedVectorValue])
    BatchVectors = _by_json_type(list[DenseVector], dict[str, list[NamedVectorValue]])


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
    multivector_config: Any = None

    @model_validator(mode="after")
    def _single_vectors_only(self) -> VectorParams:
        if self.multivector_config is not None:
            raise PydanticCustomError(
                "format", "multivector_config: multivectors are not supported by this server"
            )
        return self


class SparseIndexParams(Strict):
    full_scan_threshold: int | None = None
    on_disk: bool | None = None
    datatype: str | None = None


class SparseVectorParams(Strict):
    index: SparseIndexParams | None = None
    modifier: Literal["none", "idf"] | None = None


def _vectors_config_kind(value: Any) -> str:
    if isinstance(value, VectorParams):
        return "~single"
    return "~single" if isinstance(value, dict) and {"size", "distance"} & set(value) else "~named"


# One unnamed vector (`{"size", "distance"}`) or vectors by name.
VectorsConfig = Annotated[
    Annotated[VectorParams, Tag("~single")] | Annotated[dict[str, VectorParams], Tag("~named")],
    Discriminator(_vectors_config_kind),
]


class CreateCollection(Strict):
    vectors: VectorsConfig | None = None
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


class UpdateCollection(Strict):
    vectors: dict[str, Ignored] | None = None
    sparse_vectors: dict[str, Ignored] | None = None
    metadata: dict[str, Any] | None = None
    optimizers_config: Ignored | None = None
    params: Ignored | None = None
    hnsw_config: Ignored | None = None
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
    vectors: BatchVectors
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


def _search_vector_kind(value: Any) -> str:
    if isinstance(value, list):
        return "~dense"
    if isinstance(value, dict) and isinstance(value.get("vector"), dict):
        return "~sparse"
    return "~named"


SearchVector = Annotated[
    Annotated[DenseVector, Tag("~dense")]
    | Annotated[NamedVector, Tag("~named")]
    | Annotated[NamedSparseVector, Tag("~sparse")],
    Discriminator(_search_vector_kind),
]


class SearchRequest(Strict):
    vector: SearchVector
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
