"""The board: columns with categories and WIP limits, cards, and the Definition of Done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.items.models import ItemKind


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
