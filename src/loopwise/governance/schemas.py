"""Wire models for governance input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from loopwise.core.types import StrictIn

MAX_BOOTSTRAP = 10_000
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class AttestIn(StrictIn):
    item: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    note: Note = ""


class DecisionIn(StrictIn):
    note: Note = Field(default="", description="Why; required to reject.")


class WaiverIn(StrictIn):
    target: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ] = Field(description="A requirement id: criterion:1, checklist:<key>, approval:1.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    expires_at: AwareDatetime = Field(description="When the waiver stops counting (UTC).")


class DatasetVersionSet(StrictIn):
    dataset_version_id: str | None = Field(
        default=None, description="The dataset version the gate is about; null: none pinned."
    )


class AuditIn(StrictIn):
    dataset_version_id: str
    label_col: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    prediction_col: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    sensitive_cols: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=10
    )
    primary_measure: str = "demographic_parity_ratio"
    justification: Note = ""
    min_group_size: int = Field(default=30, ge=1, le=1_000_000)
    bootstrap: int = Field(
        default=1000, ge=0, le=MAX_BOOTSTRAP, description="Bootstrap replicates; 0: no intervals."
    )
