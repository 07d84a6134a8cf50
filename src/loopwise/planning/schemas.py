"""Wire models for planning input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from loopwise.core.limits import MAX_LABELS, MAX_TEXT
from loopwise.core.types import Finite, MetricKey, Name, StrictIn, Text, UTCDate
from loopwise.planning.models import ColumnCategory, ItemKind, RaciRole, RiskCategory, RiskStatus
from loopwise.projects.models import Comparator

ColumnKey = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{0,19}$")
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class ItemCreate(StrictIn):
    kind: ItemKind = ItemKind.TASK
    title: Name
    description: Text = ""
    status: ColumnKey | None = Field(
        default=None, description="Board column key; default: the board's first column."
    )
    assignee: str | None = Field(default=None, description="Username.")
    estimate: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    labels: list[Label] = Field(default_factory=list, max_length=MAX_LABELS)


class ItemUpdate(StrictIn):
    title: Name | None = None
    description: Text | None = None
    assignee: str | None = None
    estimate: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    labels: list[Label] | None = Field(default=None, max_length=MAX_LABELS)


class StatusChange(StrictIn):
    status: ColumnKey = Field(description="Key of the board column to move to.")
    note: Text = ""
    reason: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="",
        description="Needed to pass a WIP limit or an unmet Definition of Done; recorded.",
    )


class HypothesisCreate(StrictIn):
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


class RunLink(StrictIn):
    run_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]


# --- board, Definition of Done, cycles, milestones, risks, RACI -------------------------

Score = Annotated[int, Field(ge=1, le=5)]


class ColumnIn(StrictIn):
    key: ColumnKey
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    category: ColumnCategory
    wip_limit: Annotated[int, Field(ge=1, le=10_000)] | None = None


class ColumnsIn(StrictIn):
    columns: list[ColumnIn] = Field(min_length=2, max_length=20)


class WipLimitIn(StrictIn):
    wip_limit: Annotated[int, Field(ge=1, le=10_000)] | None


class DoneCheckIn(StrictIn):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    rule: Literal["verdict_decided", "dataset_cited"] | None = None


class DoneTemplateIn(StrictIn):
    checks: list[DoneCheckIn] = Field(max_length=30)


class CheckIn(StrictIn):
    text: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    checked: bool


class CycleCreate(StrictIn):
    goal: Text = ""
    name: Name | None = None
    starts_on: date | None = None
    days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        default=None, description="Length in days; default: the project's cycle length (21)."
    )


class ItemKeys(StrictIn):
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        min_length=1, max_length=1000
    )


class MilestoneCreate(StrictIn):
    name: Name
    target_date: date
    description: Text = ""
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=list, max_length=5000
    )


class RiskCreate(StrictIn):
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


class RiskUpdate(StrictIn):
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


class RaciSet(StrictIn):
    deliverable: Name
    people: dict[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)],
        RaciRole,
    ] = Field(max_length=50)
