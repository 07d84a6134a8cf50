"""Wire models for planning input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from loopwise.core.limits import MAX_KEY, MAX_LABELS, MAX_NAME, MAX_TEXT
from loopwise.planning.models import (
    ColumnCategory,
    Comparator,
    ItemKind,
    PermissionStatus,
    Phase,
    RaciRole,
    RiskCategory,
    RiskStatus,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
MetricKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEY)
]
Finite = Annotated[float, Field(allow_inf_nan=False)]
ProjectKey = Annotated[
    str,
    # The pattern sees the input before to_upper, so it must accept lowercase too.
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z][A-Za-z0-9]{1,9}$"),
]
ColumnKey = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,19}$")
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are read as UTC (documented); aware ones are converted."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is past datetime.max in UTC
        raise ValueError("date is out of range once converted to UTC") from exc


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
    status: ColumnKey | None = Field(
        default=None, description="Board column key; default: the board's first column."
    )
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
    status: ColumnKey = Field(description="Key of the board column to move to.")
    note: Text = ""
    reason: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="",
        description="Needed to pass a WIP limit or an unmet Definition of Done; recorded.",
    )


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


# --- board, Definition of Done, cycles, milestones, risks, RACI -------------------------

Score = Annotated[int, Field(ge=1, le=5)]


class ColumnIn(_In):
    key: ColumnKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    category: ColumnCategory
    wip_limit: Annotated[int, Field(ge=1, le=10_000)] | None = None


class ColumnsIn(_In):
    columns: list[ColumnIn] = Field(min_length=2, max_length=20)


class WipLimitIn(_In):
    wip_limit: Annotated[int, Field(ge=1, le=10_000)] | None


class DoneCheckIn(_In):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    rule: Literal["verdict_decided", "dataset_cited"] | None = None


class DoneTemplateIn(_In):
    checks: list[DoneCheckIn] = Field(max_length=30)


class CheckIn(_In):
    text: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    checked: bool


class CycleCreate(_In):
    goal: Text = ""
    name: Name | None = None
    starts_on: date | None = None
    days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        default=None, description="Length in days; default: the project's cycle length (21)."
    )


class ItemKeys(_In):
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        min_length=1, max_length=1000
    )


class MilestoneCreate(_In):
    name: Name
    target_date: date
    description: Text = ""
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=list, max_length=5000
    )


class RiskCreate(_In):
    title: Name
    category: RiskCategory
    likelihood: Score
    impact: Score
    description: Text = ""
    owner: Annotated[str, StringConstraints(max_length=200)] = ""
    mitigation: Text = ""
    residual_likelihood: Score | None = None
    residual_impact: Score | None = None
    next_review: date | None = None
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=list, max_length=100
    )


class RiskUpdate(_In):
    title: Name | None = None
    category: RiskCategory | None = None
    likelihood: Score | None = None
    impact: Score | None = None
    description: Text | None = None
    owner: Annotated[str, StringConstraints(max_length=200)] | None = None
    mitigation: Text | None = None
    residual_likelihood: Score | None = None
    residual_impact: Score | None = None
    status: RiskStatus | None = None
    next_review: date | None = None


class RaciSet(_In):
    deliverable: Name
    people: dict[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)],
        RaciRole,
    ] = Field(max_length=50)
