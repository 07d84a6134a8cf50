"""Work items: kinds, statuses and the item history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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


KILLABLE_KINDS = frozenset({ItemKind.HYPOTHESIS, ItemKind.EXPERIMENT})
