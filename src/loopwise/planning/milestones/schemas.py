"""Wire models for milestones."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from loopwise.core.types import Name, StrictIn, Text


class MilestoneCreate(StrictIn):
    name: Name
    target_date: date
    description: Text = ""
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=list, max_length=5000
    )
