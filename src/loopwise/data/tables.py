"""SQLAlchemy mappings owned by the data slice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class DatasetRow(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    expectations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    next_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]


class DatasetVersionRow(Base):
    """An immutable version; identical content (same hash) is never stored twice."""

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        UniqueConstraint("dataset_id", "content_hash", name="uq_dataset_versions_hash"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(80))
    format: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(1000), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    rows: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[int]
    schema: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    profile: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    quality_index: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(1000), default="")
    licence: Mapped[str] = mapped_column(String(200), default="")
    personal_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    legal_basis: Mapped[str] = mapped_column(String(500), default="")
    residency: Mapped[str] = mapped_column(String(100), default="")
    retention_until: Mapped[date | None]
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class RunDatasetRow(Base):
    """Lineage: which dataset versions a run used, and how (train, eval, test, input)."""

    __tablename__ = "run_datasets"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class LeakageCheckRow(Base):
    __tablename__ = "leakage_checks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    train_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    eval_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ItemDatasetRow(Base):
    """A work item citing a dataset version (its readiness report) as evidence."""

    __tablename__ = "item_datasets"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    cited_at: Mapped[datetime]
