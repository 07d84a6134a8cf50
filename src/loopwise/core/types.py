"""Shared annotated types."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

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
