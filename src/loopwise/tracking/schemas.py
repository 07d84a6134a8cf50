"""Wire models for tracking input. Output uses the domain dataclasses directly.

Metric values: JSON numbers, or the strings "NaN", "Infinity" and "-Infinity" (the bare
tokens NaN/Infinity are read too). Anything else is rejected with 400. Non-finite values
are stored as given and returned as those strings; NaN never meets a hypothesis bar.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

from loopwise.core.limits import MAX_BATCH, MAX_KEY, MAX_NAME, MAX_PARAM_VALUE, MAX_TAG_VALUE
from loopwise.tracking.models import RunStatus

Key = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_KEY, pattern=r"^[A-Za-z0-9_\-. /:]+$"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
ParamValue = Annotated[str, StringConstraints(max_length=MAX_PARAM_VALUE)]
TagValue = Annotated[str, StringConstraints(max_length=MAX_TAG_VALUE)]

_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _to_float(value: float | str) -> float:
    return _NON_FINITE[value] if isinstance(value, str) else float(value)


MetricValue = Annotated[
    Annotated[float, Strict()] | Annotated[int, Strict()] | Literal["NaN", "Infinity", "-Infinity"],
    AfterValidator(_to_float),
]


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


class RunFinish(_In):
    status: Literal[RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED] = RunStatus.FINISHED
    end_time: Annotated[datetime, AfterValidator(_as_utc)] | None = None
