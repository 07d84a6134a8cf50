"""Projects: the unit every other slice hangs off. A project has a key, a charter
(business goal -> technical success metric, constraints, data sources and their owners)
and a CRISP-DM phase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Phase(StrEnum):
    """CRISP-DM phases, plus monitoring once a model is live."""

    BUSINESS_UNDERSTANDING = "business_understanding"
    DATA_UNDERSTANDING = "data_understanding"
    DATA_PREPARATION = "data_preparation"
    MODELING = "modeling"
    EVALUATION = "evaluation"
    DEPLOYMENT = "deployment"
    MONITORING = "monitoring"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Comparator(StrEnum):
    GE = ">="
    GT = ">"
    LE = "<="
    LT = "<"

    def holds(self, value: float, threshold: float) -> bool:
        """Whether ``value`` meets ``threshold``. NaN never does."""
        if value != value:  # NaN
            return False
        match self:
            case Comparator.GE:
                return value >= threshold
            case Comparator.GT:
                return value > threshold
            case Comparator.LE:
                return value <= threshold
            case Comparator.LT:
                return value < threshold

    @property
    def higher_is_better(self) -> bool:
        return self in (Comparator.GE, Comparator.GT)


class PermissionStatus(StrEnum):
    GRANTED = "granted"
    PENDING = "pending"
    DENIED = "denied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Kpi:
    name: str
    baseline: float | None = None
    target: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class SuccessMetric:
    key: str
    comparator: Comparator
    threshold: float


@dataclass(frozen=True)
class Constraint:
    name: str
    value: str


@dataclass(frozen=True)
class DataSource:
    name: str
    owner: str
    permission: PermissionStatus = PermissionStatus.UNKNOWN


@dataclass(frozen=True)
class Charter:
    problem: str = ""
    business_kpi: Kpi | None = None
    success_metric: SuccessMetric | None = None
    constraints: tuple[Constraint, ...] = ()
    data_sources: tuple[DataSource, ...] = ()


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    description: str
    phase: Phase
    charter: Charter
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PhaseChange:
    """One change of a project's phase, kept in its phase history."""

    at: datetime
    from_phase: Phase
    to_phase: Phase
    actor: str | None  # username; None once the user is deleted
    reason: str
    override: bool  # an admin moved on although an exit check had not passed
    unmet: tuple[str, ...] = ()  # what the exit checks missed, when overridden


@dataclass(frozen=True)
class ProjectCreated:
    """Published when a project is made (governance gives it its default gates)."""

    project_id: str
    key: str
