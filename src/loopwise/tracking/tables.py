"""SQLAlchemy mappings owned by the tracking slice.

Metric points live in ``metrics`` (the full series); ``latest_metrics`` keeps each run's
latest value per key (highest step, then latest timestamp) so lists and verdicts never
scan the history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class ExperimentRow(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # MLflow clients need decimal experiment ids; 0 is the MLflow default experiment.
    number: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    lifecycle_stage: Mapped[str] = mapped_column(
        String(20), default="active", server_default="active"
    )
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    # Where an MLflow client asked its artifacts to go (reported back; runs' artifacts
    # still go through Loopwise's proxied store).
    artifact_location: Mapped[str | None] = mapped_column(String(2000))


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_project_start", "project_id", "start_time"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    git_commit: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lifecycle_stage: Mapped[str] = mapped_column(
        String(20), default="active", server_default="active"
    )


class ParamRow(Base):
    __tablename__ = "params"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class TagRow(Base):
    __tablename__ = "tags"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricRow(Base):
    __tablename__ = "metrics"
    # Covering: a series is read in (step, timestamp, id) order straight from the index,
    # with no sort and no table lookups (history pages, columns, chart buckets).
    __table_args__ = (
        Index("ix_metrics_series", "run_id", "key", "step", "timestamp", "id", "value", "is_nan"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(250))
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(default=False)


class LatestMetricRow(Base):
    __tablename__ = "latest_metrics"
    # Search ordered by a metric walks one experiment's values in this index's order.
    __table_args__ = (
        Index("ix_latest_metrics_experiment_key_value", "experiment_id", "key", "value"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(default=False)
    # The run's experiment, copied (runs never move): lets search stay inside it.
    experiment_id: Mapped[str | None] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE")
    )


class LoggedModelRow(Base):
    """An MLflow 3 logged model: artifacts logged from a run before registration."""

    __tablename__ = "logged_models"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # m-<32 hex>
    experiment_id: Mapped[str] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(250))
    source_run_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(40))
    model_type: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # What an MLflow client gave as source_run_id when it names no run here (MLflow keeps
    # any text); source_run_id above holds it when it is a real run.
    source_run_ref: Mapped[str | None] = mapped_column(String(64))
    # Metric points logged with this model's id (MLflow's model metrics), oldest first.
    metrics: Mapped[list[dict[str, object]] | None] = mapped_column(JSON, default=list)


class RunDatasetInputRow(Base):
    """A dataset input of a run as the MLflow client logged it (``log_input``): name,
    digest, source and tags kept as sent, returned in ``run.inputs.dataset_inputs``. The
    lineage link to a dataset version is kept by the data slice."""

    __tablename__ = "run_dataset_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    digest: Mapped[str] = mapped_column(String(100))
    source_type: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    schema: Mapped[str] = mapped_column(Text, default="")
    profile: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class RunModelRow(Base):
    """A logged model a run used (``input``) or produced (``output``, with its step)."""

    __tablename__ = "run_models"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
