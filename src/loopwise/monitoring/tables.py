"""SQLAlchemy mappings owned by the monitoring slice.

Per-prediction rows can number in the millions: their table has a 64-bit key, only the
columns the checks read, and one index for the window scan. Profiles are JSON (numeric
sketches and category counts from ``numeric.sketch``), one per batch and window, so a
window's result is the merge of a few small documents, never a scan of its rows; beside
each profile, a bounded uniform sample of its rows (``numeric.sample``) for the
multivariate check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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

# SQLite assigns row ids only to an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits here.
RowId = BigInteger().with_variant(Integer(), "sqlite")


class MonitorRow(Base):
    __tablename__ = "monitors"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    model_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), index=True
    )
    reference_version_id: Mapped[str] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    roles: Mapped[dict[str, Any]] = mapped_column(JSON)
    window: Mapped[str] = mapped_column(String(10))
    min_rows: Mapped[int]
    drift_share: Mapped[float] = mapped_column(Float)
    score_threshold: Mapped[float] = mapped_column(Float)
    # The reference version profiled once (numeric.sketch.profile_to_dict), and what the
    # reference says about performance when it holds labels and scores.
    reference_profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    reference_rows: Mapped[int] = mapped_column(BigInteger)
    reference_performance: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A uniform sample of the reference's rows (numeric.sample.sample_to_dict) for the
    # multivariate check; None for a monitor created before samples were kept.
    reference_sample: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MonitorBatchRow(Base):
    """One upload of production data (or one profile sent by the SDK); the same content
    sent twice to a monitor is one batch."""

    __tablename__ = "monitor_batches"
    __table_args__ = (UniqueConstraint("monitor_id", "content_hash"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(20))
    rows: Mapped[int] = mapped_column(BigInteger)
    predictions: Mapped[int] = mapped_column(BigInteger)
    duplicates: Mapped[int] = mapped_column(BigInteger)
    windows: Mapped[int]
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]


class BatchProfileRow(Base):
    """The part of a batch that fell in one window, as a mergeable profile."""

    __tablename__ = "monitor_batch_profiles"
    __table_args__ = (Index("ix_monitor_batch_profiles_window", "monitor_id", "window_start"),)

    batch_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_batches.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    rows: Mapped[int] = mapped_column(BigInteger)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A uniform sample of its rows' features (numeric.sample), merged per window for the
    # multivariate check; None for a profile sent by the SDK (no rows).
    sample: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PredictionRow(Base):
    """One logged prediction: what the checks of performance, CBPE and serving read.
    Labels arrive later, joined by ``prediction_id``."""

    __tablename__ = "monitor_predictions"
    __table_args__ = (
        UniqueConstraint("monitor_id", "prediction_id"),
        Index("ix_monitor_predictions_window", "monitor_id", "window_start"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_batches.id", ondelete="CASCADE"), index=True
    )
    prediction_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime]
    window_start: Mapped[datetime]
    prediction: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    label: Mapped[float | None] = mapped_column(Float)
    labelled_at: Mapped[datetime | None]
    latency_ms: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(500))


class WindowRow(Base):
    """A time window of one monitor: the job queue of the checks.

    ``generation`` counts the data changes (batches, labels) that reached the window;
    ``checked_generation`` the one its latest result was computed from. A worker claims a
    window whose generation is ahead (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL)
    by writing a lease; a result is kept only by the holder of the lease, and at most one
    result exists per window and generation (a unique key), so no window is checked twice
    for the same data. A lease that runs out (a worker killed mid-check) is claimed again.
    """

    __tablename__ = "monitor_windows"
    __table_args__ = (Index("ix_monitor_windows_due", "checked_generation", "generation"),)

    monitor_id: Mapped[str] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    window_end: Mapped[datetime]
    generation: Mapped[int] = mapped_column(Integer, default=1)
    checked_generation: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class ResultRow(Base):
    """The checks of one batch, or of one window at one generation."""

    __tablename__ = "monitor_results"
    __table_args__ = (
        UniqueConstraint("monitor_id", "window_start", "generation"),
        Index("ix_monitor_results_series", "monitor_id", "scope", "window_start"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(10))
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitor_batches.id", ondelete="CASCADE"), index=True
    )
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    generation: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(BigInteger)
    drifted_columns: Mapped[int]
    drift_share: Mapped[float | None] = mapped_column(Float)
    data_drift: Mapped[bool] = mapped_column(Boolean)
    realised: Mapped[dict[str, Any]] = mapped_column(JSON)
    labelled: Mapped[int] = mapped_column(BigInteger)
    estimated: Mapped[dict[str, Any]] = mapped_column(JSON)
    operations: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime]
    worker: Mapped[str] = mapped_column(String(100), default="")


class ColumnResultRow(Base):
    """One column's drift in one result: a row per column, so a column's time series with
    its threshold is one indexed query."""

    __tablename__ = "monitor_column_results"

    result_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_results.id", ondelete="CASCADE"), primary_key=True
    )
    column: Mapped[str] = mapped_column(String(250), primary_key=True)
    is_prediction: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(20))
    test: Mapped[str] = mapped_column(String(20))
    statistic: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    drifted: Mapped[bool] = mapped_column(Boolean)


class CheckResultRow(Base):
    """One check's outcome in one result: the series a chart draws with its threshold, and
    what the alert rule asks (the newest window judged for a check)."""

    __tablename__ = "monitor_check_results"

    result_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_results.id", ondelete="CASCADE"), primary_key=True
    )
    check: Mapped[str] = mapped_column(String(30), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text, default="")


class AlertRow(Base):
    """A breached check. ``open_key`` (monitor and check) is set while the alert is open
    and cleared when it resolves: a unique key, so there is one open alert per monitor and
    check even when two workers breach it at once."""

    __tablename__ = "monitor_alerts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    monitor_id: Mapped[str] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), index=True
    )
    check: Mapped[str] = mapped_column(String(30))
    open_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    first_window: Mapped[datetime]
    last_window: Mapped[datetime]
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    windows_breached: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="SET NULL"), index=True
    )
    model_version_id: Mapped[str | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    opened_result_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitor_results.id", ondelete="SET NULL")
    )
    last_result_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitor_results.id", ondelete="SET NULL")
    )
    resolved_result_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitor_results.id", ondelete="SET NULL")
    )
    detail: Mapped[str] = mapped_column(Text, default="")


# --- webhooks ---------------------------------------------------------------------------


class WebhookRow(Base):
    """A project's endpoint for monitoring alerts. ``secret`` signs each delivery, so it is
    kept (it is shown once, at creation, and never sent back by any door)."""

    __tablename__ = "monitor_webhooks"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class DeliveryRow(Base):
    """One event to send to one webhook: the outbox, written inside the transaction that
    opened or resolved the alert, and the queue of the deliveries (claimed like windows)."""

    __tablename__ = "monitor_webhook_deliveries"
    __table_args__ = (Index("ix_monitor_webhook_deliveries_due", "state", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(30))
    alert_id: Mapped[str | None] = mapped_column(
        ForeignKey("monitor_alerts.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class AttemptRow(Base):
    """Every try of a delivery: the delivery log."""

    __tablename__ = "monitor_webhook_attempts"

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("monitor_webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[float] = mapped_column(Float)


# --- the human review queue -------------------------------------------------------------


class ReviewSettingsRow(Base):
    __tablename__ = "monitor_review_settings"

    monitor_id: Mapped[str] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean)
    confidence_below: Mapped[float | None] = mapped_column(Float)
    sample_rate: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(BigInteger)
    classes: Mapped[list[int]] = mapped_column(JSON)
    reviews_per_item: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class ReviewItemRow(Base):
    """A logged prediction chosen for human review at ingest, with the feature values a
    reviewer sees and an export writes. ``label_before``: the prediction's label when it
    entered the queue (an undo of every review restores it)."""

    __tablename__ = "monitor_review_items"
    __table_args__ = (
        UniqueConstraint("monitor_id", "prediction_id"),
        Index("ix_monitor_review_items_queue", "monitor_id", "reviews", "id"),
    )

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    monitor_id: Mapped[str] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    prediction_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    prediction: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(20))
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    label_before: Mapped[float | None] = mapped_column(Float)
    reviews: Mapped[int] = mapped_column(Integer, default=0)  # answers given (not skips)
    entered_at: Mapped[datetime]


class ReviewRow(Base):
    """One reviewer's answer (or skip) on one item; one per item and reviewer."""

    __tablename__ = "monitor_reviews"
    __table_args__ = (UniqueConstraint("item_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(RowId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(
        RowId, ForeignKey("monitor_review_items.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    label: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]
