"""Wire models for registry input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from loopwise.core.limits import MAX_TEXT, shallow
from loopwise.numeric.evaluation import Task
from loopwise.registry.models import Stage

Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
Values = Annotated[list[Any], AfterValidator(shallow)]  # free JSON: depth-limited


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelCreate(_In):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Text = ""


class VersionCreate(_In):
    run_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    source: Annotated[str, StringConstraints(max_length=1000)] = ""
    description: Text = ""


class AliasSet(_In):
    version: Annotated[int, Field(ge=1)]


class StageChange(_In):
    stage: Stage
    traffic_share: Annotated[float, Field(gt=0, lt=1)] | None = Field(
        default=None, description="Canary only: the share of traffic, e.g. 0.01, 0.1, 0.5."
    )
    reason: Text = ""


class RollbackIn(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class IncidentCreate(_In):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    severity: Annotated[str, StringConstraints(pattern=r"^sev[1-4]$")] = "sev3"
    deployment_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    notes: Text = ""


class IncidentResolve(_In):
    notes: Text = ""


class EvaluationIn(_In):
    task: Task
    y_true: Values = Field(max_length=1_000_000)
    y_pred: Values = Field(max_length=1_000_000)
    y_score: Values | None = Field(default=None, max_length=1_000_000)
    features: list[list[float]] | None = Field(default=None, max_length=200_000)
    slices: Values | None = Field(default=None, max_length=1_000_000)
    slice_column: Annotated[str, StringConstraints(max_length=250)] | None = None
    model: Annotated[str, StringConstraints(max_length=200)] | None = None
    version: Annotated[int, Field(ge=1)] | None = None
    run_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    dataset_version_id: Annotated[str, StringConstraints(max_length=40)] | None = None
    n_boot: Annotated[int, Field(ge=0, le=5000)] = 500
    seed: int = 0
