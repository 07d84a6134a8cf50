"""Wire models for board columns, WIP limits and the Definition of Done."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from loopwise.core.types import StrictIn
from loopwise.planning.board.models import ColumnCategory
from loopwise.planning.items.schemas import ColumnKey


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
