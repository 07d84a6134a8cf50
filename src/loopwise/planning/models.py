"""Planning domain: projects and their charters, work items, hypotheses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from loopwise.core.types import JsonFloat


class Phase(StrEnum):
    """CRISP-DM phases, plus monitoring once a model is live."""

    BUSINESS_UNDERSTANDING = "business_understanding"
    DATA_UNDERSTANDING = "data_understanding"
    DATA_PREPARATION = "data_preparation"
    MODELING = "modeling"
    EVALUATION = "evaluation"
    DEPLOYMENT = "deployment"
    MONITORING = "monitoring"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class ItemKind(StrEnum):
    TASK = "task"
    HYPOTHESIS = "hypothesis"
    EXPERIMENT = "experiment"
    DATA_TASK = "data_task"
    BUG = "bug"
    RETRAINING = "retraining"


class ItemStatus(StrEnum):
    BACKLOG = "backlog"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    DONE = "done"
    KILLED = "killed"


class Comparator(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"

    def holds(self, value: float, threshold: float) -> bool:
        """Whether ``value`` meets ``threshold``. NaN never does."""
        if value != value:  # NaN
            return False
        match self:
            case Comparator.GE:
                return value >= threshold
            case Comparator.GT:
                return value > threshold
            case Comparator.LE:
                return value <= threshold
            case Comparator.LT:
                return value < threshold

    @property
    def higher_is_better(self) -> bool:
        return self in (Comparator.GE, Comparator.GT)


class Verdict(StrEnum):
    OPEN = "open"
    SUPPORTED = "supported"
    REFUTED = "refuted"


class PermissionStatus(StrEnum):
    GRANTED = "granted"
    PENDING = "pending"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Kpi:
    name: str
    baseline: float | None = None
    target: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class SuccessMetric:
    key: str
    comparator: Comparator
    threshold: float


@dataclass(frozen=True)
class Constraint:
    name: str
    value: str


@dataclass(frozen=True)
class DataSource:
    name: str
    owner: str
    permission: PermissionStatus = PermissionStatus.UNKNOWN


@dataclass(frozen=True)
class Charter:
    problem: str = ""
    business_kpi: Kpi | None = None
    success_metric: SuccessMetric | None = None
    constraints: tuple[Constraint, ...] = ()
    data_sources: tuple[DataSource, ...] = ()


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    description: str
    phase: Phase
    charter: Charter
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ItemEvent:
    at: datetime
    kind: str
    from_value: str | None
    to_value: str | None
    note: str
    actor: str | None


@dataclass(frozen=True)
class WorkItem:
    id: str
    key: str
    project_key: str
    kind: ItemKind
    title: str
    description: str
    status: ItemStatus
    assignee: str | None
    estimate: float | None
    labels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Evidence:
    """One linked run as seen by a hypothesis."""

    run_id: str
    run_name: str
    status: str
    end_time: datetime | None
    value: JsonFloat | None


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
    evidence: tuple[Evidence, ...] = field(default=())
