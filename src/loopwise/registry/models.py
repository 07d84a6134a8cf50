"""Registry domain: models, versions, stages, deployments, incidents, delivery metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

# re-exported: promotion checks answer with it
from loopwise.core.checks import CheckResult as CheckResult
from loopwise.core.types import JsonFloat


class Stage(StrEnum):
    NONE = "none"
    STAGING = "staging"
    CANARY = "canary"
    PRODUCTION = "production"
    ARCHIVED = "archived"


# The stage state machine: where a version may go from where it is. Production is left
# by being replaced (archived) or rolled back, never by a direct move elsewhere.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.NONE: frozenset({Stage.STAGING, Stage.CANARY, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.NONE, Stage.CANARY, Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.CANARY: frozenset({Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset({Stage.STAGING, Stage.NONE}),
}

# Where a stage runs, for deployment records.
ENVIRONMENT = {Stage.STAGING: "staging", Stage.CANARY: "production", Stage.PRODUCTION: "production"}


def can_move(current: Stage, target: Stage) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True)
class ModelVersionCreated:
    """Published when a version is registered (governance attaches its gates)."""

    version_id: str
    project_id: str


@dataclass(frozen=True)
class ModelVersion:
    id: str
    model: str
    version: int
    run_id: str | None
    source: str
    metrics: dict[str, JsonFloat]
    stage: Stage
    traffic_share: float | None
    description: str
    aliases: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class RegisteredModel:
    id: str
    name: str
    project_key: str
    description: str
    aliases: dict[str, int]
    latest_version: int | None
    production_version: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StageEvent:
    version: int
    at: datetime
    from_stage: Stage
    to_stage: Stage
    traffic_share: float | None
    actor: str | None
    reason: str


@dataclass(frozen=True)
class Deployment:
    id: str
    project_key: str
    model: str
    version: int
    environment: str
    traffic_share: float
    started_at: datetime
    ended_at: datetime | None
    outcome: str  # active, replaced, rolled_back
    reason: str


@dataclass(frozen=True)
class Incident:
    id: str
    project_key: str
    deployment_id: str | None
    title: str
    severity: str
    opened_at: datetime
    resolved_at: datetime | None
    notes: str


@dataclass(frozen=True)
class DeliveryMetrics:
    """DORA-style delivery metrics for a project over a window."""

    project_key: str
    first: date
    last: date
    production_deployments: int
    deployments_per_week: float
    lead_time_hours_median: float | None  # finished run -> production
    change_failure_rate: float | None  # rollbacks / production deployments
    mean_time_to_recovery_hours: float | None
    weekly_deployments: tuple[tuple[date, int], ...] = field(default=())
