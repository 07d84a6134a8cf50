"""Wire models for registry input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from loopwise.core.limits import MAX_TEXT
from loopwise.registry.models import Stage

Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]


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
