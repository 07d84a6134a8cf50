"""Wire models for work-item input."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from loopwise.core.limits import MAX_LABELS
from loopwise.core.types import Name, StrictIn, Text
from loopwise.planning.items.models import ItemKind

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


class ItemKeys(StrictIn):
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        min_length=1, max_length=1000
    )
