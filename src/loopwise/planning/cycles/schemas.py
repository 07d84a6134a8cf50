"""Wire models for cycles."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from loopwise.core.types import Name, StrictIn, Text


class CycleCreate(StrictIn):
    goal: Text = ""
    name: Name | None = None
    starts_on: date | None = None
    days: Annotated[int, Field(ge=1, le=366)] | None = Field(
        default=None, description="Length in days; default: the project's cycle length (21)."
    )
