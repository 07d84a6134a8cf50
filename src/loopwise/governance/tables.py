"""SQLAlchemy mappings owned by the governance slice. Other slices' rows are referred to
by foreign keys by name (projects, model versions, dataset versions, users, work items)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class GatePlanRow(Base):
    """The version-scope templates a project uses: each new model version of the project
    gets one gate per plan entry."""

    __tablename__ = "gate_plans"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    template: Mapped[str] = mapped_column(String(60), primary_key=True)
    template_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class GateRow(Base):
    __tablename__ = "gates"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[str] = mapped_column(String(60))
    template_version: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str | None] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(20))
    model_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    dataset_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    # the template as it was when the gate was made (a snapshot: later template versions
    # do not change existing gates)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    blocker_item_id: Mapped[str | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GateSignoffRow(Base):
    """An attestation of a checklist item, an approval or a rejection, with its subject."""

    __tablename__ = "gate_signoffs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gate_id: Mapped[str] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    model_version_id: Mapped[str | None] = mapped_column(String(40))
    dataset_version_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")


class GateWaiverRow(Base):
    __tablename__ = "gate_waivers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gate_id: Mapped[str] = mapped_column(ForeignKey("gates.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime]


class FairnessAuditRow(Base):
    __tablename__ = "fairness_audits"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    model_version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    model_source: Mapped[str] = mapped_column(String(1000), default="")
    dataset_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    dataset_hash: Mapped[str] = mapped_column(String(100))
    label_col: Mapped[str] = mapped_column(String(200))
    prediction_col: Mapped[str] = mapped_column(String(200))
    sensitive_cols: Mapped[list[str]] = mapped_column(JSON)
    rows: Mapped[int] = mapped_column(Integer)
    # FairnessAudit.values(): {measure: value}, None where undefined
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    primary_measure: Mapped[str] = mapped_column(String(80))
    justification: Mapped[str] = mapped_column(Text, default="")
    warnings: Mapped[list[str]] = mapped_column(JSON)
    # numeric.fairness.FairnessAudit as JSON (groups, comparisons, intervals); None for
    # audits stored before migration 0013
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ExplanationRow(Base):
    """Feature importances of a model version on a dataset version (governance.explanations)."""

    __tablename__ = "model_explanations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    model_version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    model_source: Mapped[str] = mapped_column(String(1000), default="")
    method: Mapped[str] = mapped_column(String(20))
    scoring: Mapped[str] = mapped_column(String(100), default="")
    n_repeats: Mapped[int | None] = mapped_column(Integer)
    random_state: Mapped[int | None] = mapped_column(Integer)
    baseline_score: Mapped[float | None] = mapped_column(Float)
    rows: Mapped[int | None] = mapped_column(Integer)
    dataset_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )
    dataset_hash: Mapped[str] = mapped_column(String(100))
    # [{"feature": name, "mean": x, "std": s, "raw": [per repeat...]}], in the given order
    features: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
