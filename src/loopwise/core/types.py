"""Shared annotated types."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from loopwise.core.limits import MAX_KEY, MAX_NAME, MAX_TEXT


def json_float(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


# A float that survives JSON: non-finite values travel as "NaN", "Infinity", "-Infinity".
JsonFloat = Annotated[float, PlainSerializer(json_float, when_used="json")]


# --- input fields shared by the slices' schemas ------------------------------------------

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
MetricKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEY)
]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are read as UTC (documented); aware ones are converted."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is past datetime.max in UTC
        raise ValueError("date is out of range once converted to UTC") from exc


UTCDate = Annotated[datetime, AfterValidator(as_utc)]


class StrictIn(BaseModel):
    """Base of every input schema: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Whole:
    """``Annotated[int, Whole(7, 3650)]``: a whole number from ``low`` to ``high``, said the
    same way by every door (API 400, form message, CLI line): "use a whole number from 7
    to 3,650". Text digits are read too, as forms and query strings send them."""

    low: int
    high: int

    def check(self, value: Any) -> int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(self.message)
        if not self.low <= value <= self.high:
            raise ValueError(self.message)
        return value

    @property
    def message(self) -> str:
        return f"use a whole number from {self.low:,} to {self.high:,}"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        found.update(minimum=self.low, maximum=self.high)
        return found


class QueryIn(BaseModel):
    """Base of query-string schemas: other parameters are ignored, as in any URL."""

    model_config = ConfigDict(extra="ignore")
