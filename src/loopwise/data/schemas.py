"""Wire models for the data slice."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from loopwise.core.limits import shallow
from loopwise.data.models import DatasetRole, PersonalData, VersionMeta

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(max_length=500)]
Expectation = Annotated[dict[str, Any], AfterValidator(shallow)]  # free JSON: depth-limited


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetCreate(_In):
    name: Name
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    expectations: list[Expectation] = Field(default_factory=list, max_length=200)


class ExpectationsIn(_In):
    expectations: list[Expectation] = Field(max_length=200)


class MetaIn(_In):
    owner: Short = ""
    source: Annotated[str, StringConstraints(max_length=1000)] = ""
    licence: Short = ""
    personal_data: dict[Annotated[str, StringConstraints(max_length=250)], list[PersonalData]] = (
        Field(default_factory=dict, max_length=1000)
    )
    legal_basis: Short = ""
    residency: Annotated[str, StringConstraints(max_length=100)] = ""
    retention_until: date | None = None

    def to_meta(self) -> VersionMeta:
        return VersionMeta(
            owner=self.owner,
            source=self.source,
            licence=self.licence,
            personal_data={k: tuple(v) for k, v in self.personal_data.items()},
            legal_basis=self.legal_basis,
            residency=self.residency,
            retention_until=self.retention_until,
        )


class DvcIn(_In):
    dvc: Annotated[str, StringConstraints(min_length=1, max_length=100_000)] = Field(
        description="The text of the .dvc file."
    )
    meta: MetaIn = Field(default_factory=MetaIn)


class RunDatasetIn(_In):
    version_id: Annotated[str, StringConstraints(max_length=40)]
    role: DatasetRole = DatasetRole.INPUT


class LeakageIn(_In):
    train_version_id: Annotated[str, StringConstraints(max_length=40)]
    eval_version_id: Annotated[str, StringConstraints(max_length=40)]
    label: Annotated[str, StringConstraints(max_length=250)] | None = None
    id_columns: list[Annotated[str, StringConstraints(max_length=250)]] = Field(
        default_factory=list, max_length=20
    )


class CiteIn(_In):
    version_id: Annotated[str, StringConstraints(max_length=40)]
