"""Data domain: datasets, immutable versions, lineage links, readiness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from loopwise.numeric.leakage import LeakageReport
from loopwise.numeric.profile import ColumnProfile, ExpectationResult


class DataFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    DVC = "dvc"  # registered from a .dvc file: hash and path, data not copied
    REFERENCE = "reference"  # known only by a digest and a source (MLflow log_input)


class DatasetRole(StrEnum):
    TRAIN = "train"
    EVAL = "eval"
    TEST = "test"
    INPUT = "input"


class PersonalData(StrEnum):
    """Per-column personal-data flags (GDPR vocabulary)."""

    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SPECIAL_CATEGORY = "special_category"
    SENSITIVE = "sensitive"


@dataclass(frozen=True)
class VersionMeta:
    owner: str = ""
    source: str = ""
    licence: str = ""
    personal_data: dict[str, tuple[PersonalData, ...]] = field(default_factory=dict)
    legal_basis: str = ""
    residency: str = ""
    retention_until: date | None = None


@dataclass(frozen=True)
class Dataset:
    id: str
    project_key: str
    name: str
    description: str
    expectations: tuple[dict[str, Any], ...]
    latest_version: int | None
    created_at: datetime


@dataclass(frozen=True)
class DatasetVersion:
    id: str
    project_key: str
    dataset: str
    version: int
    content_hash: str
    format: DataFormat
    location: str
    size_bytes: int
    rows: int
    columns: int
    schema: tuple[tuple[str, str], ...]
    profile: tuple[ColumnProfile, ...]
    dimensions: dict[str, float | None]
    expectations: tuple[ExpectationResult, ...]
    duplicate_rows: int
    quality_index: float | None
    meta: VersionMeta
    created_at: datetime
    profiled: bool  # False for a DVC reference whose data was not readable here


@dataclass(frozen=True)
class Registered:
    """The outcome of a registration: the version, and whether it is new."""

    version: DatasetVersion
    created: bool


@dataclass(frozen=True)
class RunDataset:
    run_id: str
    version_id: str
    dataset: str
    version: int
    role: DatasetRole


@dataclass(frozen=True)
class LeakageCheck:
    id: str
    train_version_id: str
    eval_version_id: str
    report: LeakageReport
    created_at: datetime


@dataclass(frozen=True)
class Readiness:
    """Everything a reviewer needs to decide whether a version is fit for use."""

    version: DatasetVersion
    leakage: tuple[LeakageCheck, ...]
    permission: str  # the charter's permission status for a data source of this name
    personal_columns: tuple[tuple[str, tuple[PersonalData, ...]], ...]
    issues: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.issues
