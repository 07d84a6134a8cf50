"""Wire models for planning input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from loopwise.core.limits import MAX_KEY, MAX_LABELS, MAX_NAME, MAX_TEXT
from loopwise.planning.models import (
    Comparator,
    ItemKind,
    ItemStatus,
    PermissionStatus,
    Phase,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
MetricKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEY)
]
Finite = Annotated[float, Field(allow_inf_nan=False)]
ProjectKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z][A-Z0-9]{1,9}$"),
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are read as UTC (documented); aware ones are converted."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UTCDate = Annotated[datetime, AfterValidator(_as_utc)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KpiIn(_In):
    name: Name
    baseline: Finite | None = None
    target: Finite | None = None
    unit: Annotated[str, StringConstraints(max_length=50)] = ""


class SuccessMetricIn(_In):
    key: MetricKey
    comparator: Comparator = Comparator.GE
    threshold: Finite


class ConstraintIn(_In):
    name: Name
    value: Name


class DataSourceIn(_In):
    name: Name
    owner: Name
    permission: PermissionStatus = PermissionStatus.UNKNOWN


class CharterIn(_In):
    problem: Text = ""
    business_kpi: KpiIn | None = None
    success_metric: SuccessMetricIn | None = None
    constraints: list[ConstraintIn] = Field(default_factory=list, max_length=50)
    data_sources: list[DataSourceIn] = Field(default_factory=list, max_length=50)


class ProjectCreate(_In):
    key: ProjectKey = Field(description="2-10 letters or digits, starting with a letter.")
    name: Name
    description: Text = ""
    phase: Phase = Phase.BUSINESS_UNDERSTANDING
    charter: CharterIn = Field(default_factory=CharterIn)


class ProjectUpdate(_In):
    name: Name | None = None
    description: Text | None = None
    phase: Phase | None = None
    charter: CharterIn | None = None


class ItemCreate(_In):
    kind: ItemKind = ItemKind.TASK
    title: Name
    description: Text = ""
    status: ItemStatus = ItemStatus.BACKLOG
    assignee: str | None = Field(default=None, description="Username.")
    estimate: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)


class ItemUpdate(_In):
    title: Name | None = None
    description: Text | None = None
    assignee: str | None = None
    estimate: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    labels: list[Label] | None = Field(default=None, max_length=MAX_LABELS)


class StatusChange(_In):
    status: ItemStatus
    note: Text = ""


class HypothesisCreate(_In):
    title: Name
    statement: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
    metric_key: MetricKey
    comparator: Comparator = Comparator.GE
    threshold: Finite
    baseline: Finite | None = None
    time_box_end: UTCDate | None = None
    kill_criterion: Text = ""
    kill_after_runs: Annotated[int, Field(ge=1, le=10_000)] | None = None
    kill_threshold: Finite | None = None
    description: Text = ""
    assignee: str | None = None
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)


class RunLink(_In):
    run_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
