"""Wire models for the risk register."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from loopwise.core.types import Name, StrictIn, Text
from loopwise.planning.risks.models import RiskCategory, RiskStatus

Score = Annotated[int, Field(ge=1, le=5)]
# What an update may set to null (clear); any other field left out keeps its value.
CLEARABLE = ("residual_likelihood", "residual_impact", "next_review")


class RiskCreate(StrictIn):
    title: Name
    category: RiskCategory
    likelihood: Score
    impact: Score
    description: Text = ""
    owner: Annotated[str, StringConstraints(max_length=200)] = ""
    mitigation: Text = ""
    residual_likelihood: Score | None = None
    residual_impact: Score | None = None
    next_review: date | None = None
    items: list[Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=list, max_length=100
    )


class RiskUpdate(StrictIn):
    title: Name | None = None
    category: RiskCategory | None = None
    likelihood: Score | None = None
    impact: Score | None = None
    description: Text | None = None
    owner: Annotated[str, StringConstraints(max_length=200)] | None = None
    mitigation: Text | None = None
    residual_likelihood: Score | None = None
    residual_impact: Score | None = None
    status: RiskStatus | None = None
    next_review: date | None = None

    @model_validator(mode="after")
    def _clearable_only(self) -> Self:
        nulls = sorted(
            f for f in self.model_fields_set if getattr(self, f) is None and f not in CLEARABLE
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null: leave it out to keep its value")
        return self
