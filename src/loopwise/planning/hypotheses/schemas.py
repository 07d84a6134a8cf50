"""Wire models for hypothesis input."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from loopwise.core.limits import MAX_LABELS, MAX_TEXT
from loopwise.core.types import Finite, MetricKey, Name, StrictIn, Text, UTCDate
from loopwise.planning.items.schemas import Label
from loopwise.projects.models import Comparator


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
