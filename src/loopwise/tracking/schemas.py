"""Wire models for tracking input. Output uses the domain dataclasses directly.

Metric values: JSON numbers, or the strings "NaN", "Infinity" and "-Infinity" (the bare
tokens NaN/Infinity are read too). Anything else is rejected with 400. Non-finite values
are stored as given and returned as those strings; NaN never meets a hypothesis bar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, TypeGuard

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

from loopwise.core.limits import MAX_BATCH, MAX_NAME
from loopwise.tracking.models import RunStatus
from loopwise.tracking.validation import Key, ParamValue, TagValue

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]

_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _to_float(value: float | str) -> float:
    if isinstance(value, str):
        return _NON_FINITE[value]
    try:
        return float(value)
    except OverflowError as exc:  # an integer literal beyond the float range
        raise ValueError("number is too large for a 64-bit float") from exc


MetricValue = Annotated[
    Annotated[float, Strict()] | Annotated[int, Strict()] | Literal["NaN", "Infinity", "-Infinity"],
    AfterValidator(_to_float),
]


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+05:00 is before datetime.min in UTC
        raise ValueError("date is out of range once converted to UTC") from exc


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentCreate(_In):
    name: Name


class RunCreate(_In):
    experiment: Name = "Default"
    name: Name | None = None
    params: dict[Key, ParamValue] = Field(default_factory=dict, max_length=1000)
    tags: dict[Key, TagValue] = Field(default_factory=dict, max_length=1000)
    git_commit: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{4,64}$")] | None = None
    hypotheses: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=list, max_length=50, description="Keys of hypotheses this run tests."
    )
    start_time: Annotated[datetime, AfterValidator(_as_utc)] | None = None


class ParamsIn(_In):
    params: dict[Key, ParamValue] = Field(max_length=1000)


class TagsIn(_In):
    tags: dict[Key, TagValue] = Field(max_length=1000)


class MetricIn(_In):
    key: Key
    value: MetricValue
    step: Annotated[int, Strict(), Field(ge=-(2**62), le=2**62)] = 0
    timestamp: Annotated[int, Strict(), Field(ge=0, le=2**62)] | None = Field(
        default=None, description="Milliseconds since the epoch; default: now."
    )


class MetricsIn(_In):
    metrics: list[MetricIn] = Field(min_length=1, max_length=MAX_BATCH)


def _ended(status: RunStatus) -> RunStatus:
    if not status.is_terminal:
        raise ValueError("a run ends as finished, failed or killed")
    return status


class RunFinish(_In):
    status: Annotated[RunStatus, AfterValidator(_ended)] = RunStatus.FINISHED
    end_time: Annotated[datetime, AfterValidator(_as_utc)] | None = None


Column = Annotated[float, Strict()] | Literal["NaN", "Infinity", "-Infinity"]
MAX_COLUMN = 1_000_000


def _numbers_only(values: list[Column]) -> TypeGuard[list[float]]:
    return not any(isinstance(v, str) for v in values)


class ColumnsIn(_In):
    """One metric as parallel arrays: the fast path for long series (SDK, importers)."""

    key: Key
    steps: list[Annotated[int, Strict()]] = Field(max_length=MAX_COLUMN)
    values: list[Column] = Field(max_length=MAX_COLUMN)
    timestamps: list[Annotated[int, Strict(), Field(ge=0)]] | None = Field(
        default=None, max_length=MAX_COLUMN, description="Milliseconds; default: now."
    )

    def floats(self) -> list[float]:
        if _numbers_only(self.values):
            return self.values  # the list itself: a column may hold a million values
        return [_NON_FINITE[v] if isinstance(v, str) else v for v in self.values]
