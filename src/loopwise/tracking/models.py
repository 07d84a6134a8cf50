"""Tracking domain: experiments, runs, metric points, artifacts, and the events it publishes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from loopwise.core.types import JsonFloat


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


@dataclass(frozen=True)
class Evidence:
    """One run as evidence for a hypothesis: how it ended and its latest value of the
    hypothesis's metric (None when never logged). The verdict reads only these."""

    run_id: str
    status: RunStatus
    end_time: datetime | None
    value: JsonFloat | None
    run_name: str = ""


@dataclass(frozen=True)
class Experiment:
    id: str
    project_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class MetricPoint:
    key: str
    value: JsonFloat
    step: int
    timestamp: int  # milliseconds since the epoch, as MLflow


@dataclass(frozen=True)
class Run:
    id: str
    project_id: str
    project_key: str
    experiment_id: str
    experiment_name: str
    name: str
    status: RunStatus
    start_time: datetime
    end_time: datetime | None
    git_commit: str | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, MetricPoint] = field(default_factory=dict)
    lifecycle_stage: str = "active"  # "deleted" runs are hidden from lists


# A run's plain fields in RunPage.fields, in this order.
RUN_FIELDS = (
    "id",
    "project_id",
    "experiment_id",
    "name",
    "status",
    "start_time",
    "end_time",
    "git_commit",
    "lifecycle_stage",
)


@dataclass(frozen=True)
class RunPage:
    """A page of runs as plain values, for wire formats that build their own objects
    (the MLflow search answers with ~2,000 small dicts per 100 runs: going through Run
    and MetricPoint objects first would double that work).

    ``fields`` holds one tuple per run in ``RUN_FIELDS`` order; the other maps are keyed
    by run id, then by key, in key order. A latest metric is (value, step, timestamp),
    NaN as ``math.nan``."""

    fields: list[tuple[Any, ...]]
    params: Mapping[str, dict[str, str]]
    tags: Mapping[str, dict[str, str]]
    latest: Mapping[str, dict[str, tuple[float, int, int]]]
    experiment_names: Mapping[str, str]
    project_keys: Mapping[str, str]


@dataclass(frozen=True)
class ArtifactInfo:
    path: str
    size: int
    is_dir: bool


@dataclass(frozen=True)
class RunTagged:
    """Published for every tag set on a run (``loopwise.hypothesis`` links it to a plan)."""

    run_id: str
    key: str
    value: str


@dataclass(frozen=True)
class RunOffered:
    """Published when a run is created to test the hypotheses named by their keys."""

    run_id: str
    hypothesis_keys: tuple[str, ...]


@dataclass(frozen=True)
class RunEvidenceChanged:
    """Published when a run finishes, or its metrics change after it finished."""

    run_id: str
