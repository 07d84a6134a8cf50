"""Wire models for project input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from loopwise.core.types import Finite, MetricKey, Name, StrictIn, Text
from loopwise.projects.models import Comparator, PermissionStatus, Phase

ProjectKey = Annotated[
    str,
    # The pattern sees the input before to_upper, so it must accept lowercase too.
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z][A-Za-z0-9]{1,9}$"),
]


class KpiIn(StrictIn):
    name: Name
    baseline: Finite | None = None
    target: Finite | None = None
    unit: Annotated[str, StringConstraints(max_length=50)] = ""


class SuccessMetricIn(StrictIn):
    key: MetricKey
    comparator: Comparator = Comparator.GE
    threshold: Finite


class ConstraintIn(StrictIn):
    name: Name
    value: Name


class DataSourceIn(StrictIn):
    name: Name
    owner: Name
    permission: PermissionStatus = PermissionStatus.UNKNOWN


class CharterIn(StrictIn):
    problem: Text = ""
    business_kpi: KpiIn | None = None
    success_metric: SuccessMetricIn | None = None
    constraints: list[ConstraintIn] = Field(default_factory=list, max_length=50)
    data_sources: list[DataSourceIn] = Field(default_factory=list, max_length=50)


class ProjectCreate(StrictIn):
    key: ProjectKey = Field(description="2-10 letters or digits, starting with a letter.")
    name: Name
    description: Text = ""
    phase: Phase = Phase.BUSINESS_UNDERSTANDING
    charter: CharterIn = Field(default_factory=CharterIn)


class ProjectUpdate(StrictIn):
    name: Name | None = None
    description: Text | None = None
    phase: Phase | None = None
    charter: CharterIn | None = None


class PhaseChangeIn(StrictIn):
    phase: Phase = Field(description="The CRISP-DM phase to move to.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field(
        default="", description="Why; required with override."
    )
    override: bool = Field(
        default=False,
        description="Move on although an exit gate has not passed (project admins only; "
        "needs a reason; recorded).",
    )
