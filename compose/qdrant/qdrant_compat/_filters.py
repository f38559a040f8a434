"""Qdrant's REST filter language, parsed with pydantic and turned into engine filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import qdrant_edge as qe
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from ._errors import format_error
from ._ids import PointId

StrictScalar = Annotated[bool | int | str, Field(union_mode="left_to_right")]


class Strict(BaseModel):
    # Qdrant's REST models deny unknown fields and do not coerce "1" into 1.
    model_config = ConfigDict(extra="forbid", strict=True)


def _exactly_one(model: BaseModel, what: str) -> None:
    if len(model.model_fields_set) != 1:
        raise PydanticCustomError(
            "match",
            f"expected exactly one {what}, got {{got}}",
            {"got": sorted(model.model_fields_set) or "none"},
        )


class Match(Strict):
    value: StrictScalar | None = None
    text: str | None = None
    text_any: str | None = None
    phrase: str | None = None
    prefix: str | None = None
    substring: str | None = None
    any: list[str] | list[int] | None = None
    except_: list[str] | list[int] | None = Field(default=None, alias="except")

    @model_validator(mode="after")
    def _one_kind(self) -> Match:
        _exactly_one(self, "of value/text/text_any/phrase/prefix/substring/any/except")
        return self

    def to_edge(self) -> Any:
        kind = next(iter(self.model_fields_set))
        value = getattr(self, kind)
        builders = {
            "value": qe.MatchValue,
            "text": qe.MatchText,
            "text_any": qe.MatchTextAny,
            "phrase": qe.MatchPhrase,
            "prefix": qe.MatchPrefix,
            "substring": qe.MatchSubstring,
            "any": qe.MatchAny,
            "except_": qe.MatchExcept,
        }
        return builders[kind](value)


class Range(Strict):
    # Numbers give a numeric range; RFC 3339 strings a datetime range.
    gt: float | str | None = None
    gte: float | str | None = None
    lt: float | str | None = None
    lte: float | str | None = None

    def to_edge(self) -> Any:
        bounds = {k: v for k, v in self.model_dump().items() if v is not None}
        kinds = {isinstance(v, str) for v in bounds.values()}
        if kinds == {True}:
            try:
                return qe.RangeDateTime(**bounds)
            except ValueError as exc:
                raise format_error("JSON body", f"range: {exc}") from exc
        if len(kinds) > 1:
            raise format_error("JSON body", "range: mixes numbers and datetimes")
        return qe.RangeFloat(**bounds)


class ValuesCount(Strict):
    lt: int | None = Field(default=None, ge=0)
    gt: int | None = Field(default=None, ge=0)
    lte: int | None = Field(default=None, ge=0)
    gte: int | None = Field(default=None, ge=0)

    def to_edge(self) -> Any:
        return qe.ValuesCount(**self.model_dump())


class GeoPoint(Strict):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)

    def to_edge(self) -> Any:
        return qe.GeoPoint(lon=self.lon, lat=self.lat)


class GeoBoundingBox(Strict):
    top_left: GeoPoint
    bottom_right: GeoPoint

    def to_edge(self) -> Any:
        return qe.GeoBoundingBox(self.top_left.to_edge(), self.bottom_right.to_edge())


class GeoRadius(Strict):
    center: GeoPoint
    radius: float

    def to_edge(self) -> Any:
        return qe.GeoRadius(self.center.to_edge(), self.radius)


class GeoLineString(Strict):
    points: list[GeoPoint]

    def to_edge(self) -> list[Any]:
        return [p.to_edge() for p in self.points]


class GeoPolygon(Strict):
    exterior: GeoLineString
    interiors: list[GeoLineString] | None = None

    def to_edge(self) -> Any:
        interiors = [i.to_edge() for i in self.interiors] if self.interiors else None
        return qe.GeoPolygon(self.exterior.to_edge(), interiors)


class FieldCondition(Strict):
    key: str
    match: Match | None = None
    range: Range | None = None
    geo_bounding_box: GeoBoundingBox | None = None
    geo_radius: GeoRadius | None = None
    geo_polygon: GeoPolygon | None = None
    values_count: ValuesCount | None = None
    is_empty: bool | None = None
    is_null: bool | None = None

    @model_validator(mode="after")
    def _has_condition(self) -> FieldCondition:
        if self.model_fields_set <= {"key"}:
            raise PydanticCustomError(
                "constraint", "At least one field condition must be specified"
            )
        return self

    def to_edge(self) -> Any:
        parts = {
            name: getattr(self, name).to_edge()
            for name in (
                "match",
                "range",
                "geo_bounding_box",
                "geo_radius",
                "geo_polygon",
                "values_count",
            )
            if getattr(self, name) is not None
        }
        return qe.FieldCondition(self.key, is_empty=self.is_empty, is_null=self.is_null, **parts)


class PayloadField(Strict):
    key: str


class IsEmptyCondition(Strict):
    is_empty: PayloadField

    def to_edge(self) -> Any:
        return qe.IsEmptyCondition(self.is_empty.key)


class IsNullCondition(Strict):
    is_null: PayloadField

    def to_edge(self) -> Any:
        return qe.IsNullCondition(self.is_null.key)


class HasIdCondition(Strict):
    has_id: list[PointId]

    def to_edge(self) -> Any:
        return qe.HasIdCondition(set(self.has_id))


class HasVectorCondition(Strict):
    has_vector: str

    def to_edge(self) -> Any:
        return qe.HasVectorCondition(self.has_vector)


class Nested(Strict):
    key: str
    filter: Filter


class NestedCondition(Strict):
    nested: Nested

    def to_edge(self) -> Any:
        return qe.NestedCondition(self.nested.key, self.nested.filter.to_edge())


def _condition_kind(value: Any) -> str | None:
    # Qdrant's condition is an untagged enum; the keys tell the variants apart.
    if isinstance(value, BaseModel):
        return f"~{type(value).__name__}"
    if not isinstance(value, dict):
        return None
    for key, kind in (
        ("key", "~FieldCondition"),
        ("is_empty", "~IsEmptyCondition"),
        ("is_null", "~IsNullCondition"),
        ("has_id", "~HasIdCondition"),
        ("has_vector", "~HasVectorCondition"),
        ("nested", "~NestedCondition"),
    ):
        if key in value:
            return kind
    return "~Filter"


Condition = Annotated[
    Annotated[FieldCondition, Tag("~FieldCondition")]
    | Annotated[IsEmptyCondition, Tag("~IsEmptyCondition")]
    | Annotated[IsNullCondition, Tag("~IsNullCondition")]
    | Annotated[HasIdCondition, Tag("~HasIdCondition")]
    | Annotated[HasVectorCondition, Tag("~HasVectorCondition")]
    | Annotated[NestedCondition, Tag("~NestedCondition")]
    | Annotated["Filter", Tag("~Filter")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message=(
            "Expected some form of condition, which can be a field condition "
            '(like {"key": ..., "match": ... }), or some other mentioned in the documentation'
        ),
    ),
]


def list_or_one(one: Any) -> Any:
    """`list[one] | one`, telling them apart by the JSON type for clear errors."""
    return Annotated[
        Annotated[list[one], Tag("~list")] | Annotated[one, Tag("~one")],
        Discriminator(lambda v: "~list" if isinstance(v, list) else "~one"),
    ]


if TYPE_CHECKING:
    Conditions = list[Condition] | Condition
else:
    Conditions = list_or_one(Condition)


class MinShould(Strict):
    conditions: list[Condition]
    min_count: int = Field(ge=0)


def _as_list(conditions: Any) -> list[Any] | None:
    if conditions is None:
        return None
    items = conditions if isinstance(conditions, list) else [conditions]
    return [c.to_edge() for c in items]


class Filter(Strict):
    must: Conditions | None = None
    should: Conditions | None = None
    must_not: Conditions | None = None
    min_should: MinShould | None = None

    def to_edge(self) -> Any:
        min_should = None
        if self.min_should is not None:
            min_should = qe.MinShould(
                [c.to_edge() for c in self.min_should.conditions], self.min_should.min_count
            )
        return qe.Filter(
            must=_as_list(self.must),
            should=_as_list(self.should),
            must_not=_as_list(self.must_not),
            min_should=min_should,
        )


Nested.model_rebuild()
Filter.model_rebuild()


def to_edge(filter_: Filter | None) -> Any:
    if filter_ is None:
        return None
    try:
        return filter_.to_edge()
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. an integer beyond int64
        raise format_error("JSON body", f"filter: {exc}") from exc
