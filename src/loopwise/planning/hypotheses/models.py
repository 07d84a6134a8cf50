"""Hypotheses and their verdicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from loopwise.core.types import JsonFloat
from loopwise.planning.items.models import WorkItem
from loopwise.projects.models import Comparator
from loopwise.tracking.models import Evidence


class Verdict(StrEnum):
    OPEN = "open"
    SUPPORTED = "supported"
    REFUTED = "refuted"


@dataclass(frozen=True)
class Hypothesis:
    item: WorkItem
    statement: str
    metric_key: str
    comparator: Comparator
    threshold: float
    baseline: float | None
    time_box_end: datetime | None
    kill_criterion: str
    kill_threshold: float | None
    kill_after_runs: int | None
    verdict: Verdict
    verdict_run_id: str | None
    verdict_value: JsonFloat | None
    verdict_at: datetime | None
    verdict_reason: str
    evidence: tuple[Evidence, ...] = field(default=())  # tracking's type: runs as evidence
