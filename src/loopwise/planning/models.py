"""Planning domain: work items, hypotheses, the board, cycles, milestones, risks, RACI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from loopwise.core.types import JsonFloat
from loopwise.projects.models import Comparator
from loopwise.tracking.models import Evidence


class ItemKind(StrEnum):
    TASK = "task"
    HYPOTHESIS = "hypothesis"
    EXPERIMENT = "experiment"
    DATA_TASK = "data_task"
    BUG = "bug"
    RETRAINING = "retraining"


class ItemStatus(StrEnum):
    """Keys of the default board columns (a project can define its own)."""

    BACKLOG = "backlog"
    READY = "ready"
    IN_PROGRESS = "in_progress"
    REVIEW = "review"
    DONE = "done"
    KILLED = "killed"


class Verdict(StrEnum):
    OPEN = "open"
    SUPPORTED = "supported"
    REFUTED = "refuted"


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
    status: str  # a board column key
    assignee: str | None
    estimate: float | None
    labels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


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


# --- board, Definition of Done, cycles, milestones, risks, RACI -------------------------


class ColumnCategory(StrEnum):
    """What a column means for flow metrics: not started, started, or finished."""

    TODO = "todo"
    STARTED = "started"
    DONE = "done"
    KILLED = "killed"

    @property
    def finished(self) -> bool:
        return self in (ColumnCategory.DONE, ColumnCategory.KILLED)


@dataclass(frozen=True)
class Column:
    key: str
    name: str
    category: ColumnCategory
    wip_limit: int | None = None


DEFAULT_COLUMNS: tuple[Column, ...] = (
    Column("backlog", "Backlog", ColumnCategory.TODO),
    Column("ready", "Ready", ColumnCategory.TODO),
    Column("in_progress", "In progress", ColumnCategory.STARTED),
    Column("review", "Review", ColumnCategory.STARTED),
    Column("done", "Done", ColumnCategory.DONE),
    Column("killed", "Killed", ColumnCategory.KILLED),
)

# Kinds whose work may end in a kill rather than a delivery.
KILLABLE_KINDS = frozenset({ItemKind.HYPOTHESIS, ItemKind.EXPERIMENT})


@dataclass(frozen=True)
class DoneCheck:
    """One line of a Definition of Done. ``rule`` names a check the system computes."""

    text: str
    rule: str | None = None


DEFAULT_DONE: dict[ItemKind, tuple[DoneCheck, ...]] = {
    ItemKind.HYPOTHESIS: (
        DoneCheck("Verdict recorded", "verdict_decided"),
        DoneCheck("Journal note written"),
    ),
    ItemKind.EXPERIMENT: (DoneCheck("Runs linked and summarised"),),
    ItemKind.DATA_TASK: (DoneCheck("Dataset version registered and cited", "dataset_cited"),),
    ItemKind.RETRAINING: (DoneCheck("New model version evaluated against the champion"),),
}


@dataclass(frozen=True)
class ItemCheck:
    text: str
    rule: str | None
    checked: bool
    checked_by: str | None
    checked_at: datetime | None


@dataclass(frozen=True)
class BoardCard:
    key: str
    title: str
    kind: ItemKind
    status: str
    assignee: str | None
    labels: tuple[str, ...]
    estimate: float | None
    cycle: str | None
    age_days: float | None
    verdict: Verdict | None
    overdue: bool  # hypothesis past its time-box while still open


@dataclass(frozen=True)
class BoardColumn:
    column: Column
    cards: tuple[BoardCard, ...]  # after filters, at most CARDS_PER_COLUMN
    count: int  # all items in the column, before filters
    over_limit: bool  # more items than the WIP limit (possible after overrides)


@dataclass(frozen=True)
class Board:
    project_key: str
    columns: tuple[BoardColumn, ...]


@dataclass(frozen=True)
class Cycle:
    id: str
    project_key: str
    number: int
    name: str
    goal: str
    starts_on: date
    ends_on: date
    item_keys: tuple[str, ...]


@dataclass(frozen=True)
class CycleReport:
    cycle: Cycle
    planned: tuple[str, ...]
    done: tuple[str, ...]
    killed: tuple[str, ...]
    carry_over: tuple[str, ...]
    hypotheses: tuple[tuple[str, str, Verdict], ...]  # (key, title, verdict) resolved in it


@dataclass(frozen=True)
class Milestone:
    id: str
    project_key: str
    name: str
    description: str
    target_date: date
    item_keys: tuple[str, ...]
    remaining: int


class RiskCategory(StrEnum):
    DATA = "data"
    TECHNICAL = "technical"
    ETHICAL = "ethical"
    LEGAL = "legal"
    BUSINESS = "business"
    OPERATIONAL = "operational"


class RiskStatus(StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    ACCEPTED = "accepted"
    CLOSED = "closed"


@dataclass(frozen=True)
class Risk:
    id: str
    key: str  # e.g. CHURN-R3
    project_key: str
    title: str
    description: str
    category: RiskCategory
    likelihood: int
    impact: int
    residual_likelihood: int | None
    residual_impact: int | None
    owner: str
    mitigation: str
    status: RiskStatus
    next_review: date | None
    item_keys: tuple[str, ...]
    review_overdue: bool
    score: int  # likelihood x impact, 1-25
    residual_score: int | None
    level: str  # low (1-5), medium (6-12), high (15-25)


def risk_level(score: int) -> str:
    return "high" if score >= 15 else "medium" if score >= 6 else "low"


class RaciRole(StrEnum):
    RESPONSIBLE = "R"
    ACCOUNTABLE = "A"
    CONSULTED = "C"
    INFORMED = "I"


@dataclass(frozen=True)
class RaciEntry:
    deliverable: str
    person: str
    role: RaciRole
