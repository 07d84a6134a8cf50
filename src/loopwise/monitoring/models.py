"""Monitoring domain: monitors, batches of production data, window results, alerts.

A monitor ties a model version (or a project's prediction stream) to a reference dataset
version and a set of checks. Production data arrive in batches; each batch is folded into
mergeable profiles, one per time window it touches; a window's result is computed from
the merge of its batch profiles. A check whose threshold is breached opens one alert per
monitor and check, which resolves when a later window passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from loopwise.core.types import JsonFloat
from loopwise.numeric.drift import ColumnKind, DriftTest


class Window(StrEnum):
    """How production data are grouped in time for checks (per monitor)."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"

    @property
    def length(self) -> timedelta:
        return {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[
            self.value
        ]


# The data slice's schema kinds, read as drift column kinds (datetimes are not monitored).
SCHEMA_KINDS: dict[str, ColumnKind] = {
    "integer": ColumnKind.NUMERIC,
    "float": ColumnKind.NUMERIC,
    "boolean": ColumnKind.CATEGORICAL,
    "string": ColumnKind.CATEGORICAL,
}


class CheckKind(StrEnum):
    """What a monitor judges per window; each has one alert at most open at a time."""

    DATA_DRIFT = "data_drift"  # share of drifted feature columns >= threshold
    PREDICTION_DRIFT = "prediction_drift"  # the prediction (or score) column drifted
    PERFORMANCE = "performance"  # realised metric fell more than threshold below baseline
    ESTIMATED_PERFORMANCE = "estimated_performance"  # the same, estimated (CBPE), no labels
    ERROR_RATE = "error_rate"  # share of predictions logged with an error > threshold
    LATENCY = "latency"  # 95th percentile latency (ms) > threshold
    # a classifier tells the window's sampled rows from the reference's: ROC AUC >= threshold
    MULTIVARIATE_DRIFT = "multivariate_drift"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Metric(StrEnum):
    """Classification metrics, realised (labels) or estimated (CBPE)."""

    ACCURACY = "accuracy"
    PRECISION = "precision"
    RECALL = "recall"
    F1 = "f1"
    ROC_AUC = "roc_auc"


class Status(StrEnum):
    """One check's outcome for one window."""

    OK = "ok"
    BREACHED = "breached"
    UNKNOWN = "unknown"  # not measurable: too few rows, no labels, no baseline...


class AlertState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Scope(StrEnum):
    BATCH = "batch"
    WINDOW = "window"


@dataclass(frozen=True)
class ColumnSpec:
    """A monitored column: its kind (from the reference schema) and, when the user chose
    them, the drift test and threshold (None: ``numeric.drift.default_test``)."""

    name: str
    kind: ColumnKind
    dtype: str  # the reference schema's kind: integer, float, boolean, string
    test: DriftTest | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class CheckSpec:
    kind: CheckKind
    threshold: float | None  # None for prediction drift: the column test's threshold
    severity: Severity
    metric: Metric | None = None  # performance checks
    baseline: float | None = None  # performance checks; None: the reference's value


@dataclass(frozen=True)
class Roles:
    """Names of the columns of an uploaded batch that are not features; each optional."""

    prediction_id: str = "prediction_id"
    timestamp: str = "timestamp"
    prediction: str = "prediction"
    score: str = "score"
    label: str = "label"
    latency_ms: str = "latency_ms"
    error: str = "error"


@dataclass(frozen=True)
class Monitor:
    id: str
    project_key: str
    name: str
    description: str
    model: str | None  # registered model name, when the monitor watches a model version
    model_version: int | None
    model_version_id: str | None
    reference_version_id: str
    columns: tuple[ColumnSpec, ...]  # the features
    predictions: tuple[ColumnSpec, ...]  # prediction and score, when the reference has them
    checks: tuple[CheckSpec, ...]
    roles: Roles
    window: Window
    min_rows: int
    drift_share: float  # a window's data drift: share of drifted columns >= this
    score_threshold: float  # scores >= this are the positive class (CBPE, realised)
    reference_rows: int
    reference_performance: dict[str, JsonFloat]  # realised on the reference, when labelled
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Batch:
    id: str
    monitor_id: str
    rows: int
    predictions: int  # per-prediction rows stored (0 for a profile-only batch)
    duplicates: int  # rows whose prediction id was already stored (skipped)
    windows: int  # time windows the batch touched
    first_at: datetime
    last_at: datetime
    source: str  # csv, parquet, profile
    content_hash: str
    received_at: datetime
    created: bool = True  # False: the same content had been logged before


@dataclass(frozen=True)
class Labelled:
    """What a set of late labels did: joined to stored predictions by their id."""

    received: int
    matched: int  # predictions now labelled
    unmatched: int  # ids with no stored prediction (not kept)
    windows: int  # windows to check again


@dataclass(frozen=True)
class ColumnResult:
    column: str
    kind: ColumnKind
    test: DriftTest
    statistic: JsonFloat
    p_value: JsonFloat | None
    threshold: JsonFloat
    drifted: bool


@dataclass(frozen=True)
class CheckOutcome:
    kind: CheckKind
    status: Status
    value: JsonFloat | None
    threshold: JsonFloat | None
    severity: Severity
    detail: str = ""


@dataclass(frozen=True)
class Operations:
    """What the per-prediction rows of a window say about serving."""

    predictions: int = 0
    per_hour: JsonFloat | None = None
    errors: int = 0
    error_rate: JsonFloat | None = None
    latency_p50_ms: JsonFloat | None = None
    latency_p95_ms: JsonFloat | None = None
    latency_p99_ms: JsonFloat | None = None


@dataclass(frozen=True)
class Result:
    """The checks of one batch or one window against the reference."""

    id: str
    monitor_id: str
    scope: Scope
    batch_id: str | None
    window_start: datetime | None
    window_end: datetime | None
    generation: int  # the window's data version this was computed from
    rows: int
    drifted_columns: int
    drift_share: JsonFloat | None
    data_drift: bool
    columns: tuple[ColumnResult, ...]
    prediction: tuple[ColumnResult, ...]
    realised: dict[str, JsonFloat]  # performance on labelled predictions (labelled count)
    labelled: int
    estimated: dict[str, JsonFloat]  # CBPE from scores
    operations: Operations
    checks: tuple[CheckOutcome, ...]
    computed_at: datetime
    worker: str = ""


@dataclass(frozen=True)
class Alert:
    id: str
    monitor_id: str
    monitor: str
    project_key: str
    check: CheckKind
    severity: Severity
    state: AlertState
    opened_at: datetime
    resolved_at: datetime | None
    first_window: datetime
    last_window: datetime  # the latest window judged while the alert was open
    value: JsonFloat | None  # the latest breaching value
    threshold: JsonFloat
    windows_breached: int
    item_key: str | None  # the retraining work item
    model_version_id: str | None
    evidence: dict[str, str] = field(default_factory=dict)  # result ids, detail


@dataclass(frozen=True)
class AlertOpened:
    """Published when a check's threshold is first breached (webhooks subscribe here)."""

    alert_id: str
    monitor_id: str
    project_key: str
    check: CheckKind
    severity: Severity
    item_key: str | None
    model_version_id: str | None
    result_id: str


@dataclass(frozen=True)
class AlertResolved:
    """Published when an open alert's check passes again."""

    alert_id: str
    monitor_id: str
    project_key: str
    check: CheckKind
    result_id: str


# --- webhooks ---------------------------------------------------------------------------


class WebhookEvent(StrEnum):
    ALERT_OPENED = "alert_opened"
    ALERT_RESOLVED = "alert_resolved"


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # no 2xx answer after the last attempt


@dataclass(frozen=True)
class Webhook:
    """An endpoint of a project that receives its monitoring alerts. The secret that signs
    each delivery is shown once, when the webhook is created."""

    id: str
    project_key: str
    name: str
    url: str
    events: tuple[WebhookEvent, ...]
    active: bool
    created_at: datetime
    secret_hint: str  # the secret's last 4 characters, to tell secrets apart


@dataclass(frozen=True)
class WebhookCreated:
    webhook: Webhook
    secret: str  # shown this once; the receiver verifies signatures with it


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status_code: int | None  # None: no answer (refused, timed out)
    error: str
    duration_ms: float


@dataclass(frozen=True)
class Delivery:
    id: str
    webhook_id: str
    event: WebhookEvent
    alert_id: str | None
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None  # None once delivered or failed
    delivered_at: datetime | None
    body: str  # the exact JSON sent (signed as is)
    log: tuple[Attempt, ...] = ()


# --- the human review queue -------------------------------------------------------------


class ReviewReason(StrEnum):
    LOW_CONFIDENCE = "low_confidence"
    SAMPLED = "sampled"


class ReviewAction(StrEnum):
    CONFIRM = "confirm"  # the model's answer was right
    CORRECT = "correct"  # the reviewer gave another label
    SKIP = "skip"  # not this one, not by this reviewer


@dataclass(frozen=True)
class ReviewSettings:
    """Which of a monitor's predictions go to the review queue, decided at ingest: those
    whose confidence (max(score, 1 - score)) is below ``confidence_below``, and a share
    ``sample_rate`` of the others, chosen by a seeded hash of the prediction id (the same
    id is always chosen or not)."""

    enabled: bool = False
    confidence_below: float | None = None  # 0.5..1; None: no confidence rule
    sample_rate: float = 0.0  # 0..1
    seed: int = 0
    classes: tuple[int, ...] = (0, 1)  # the answers offered (keys 0..9)
    reviews_per_item: int = 1  # 2: each item waits for a second reviewer (agreement)


@dataclass(frozen=True)
class ReviewVote:
    reviewer: str  # username
    action: ReviewAction
    label: int | None  # None for a skip
    at: datetime


@dataclass(frozen=True)
class ReviewItem:
    id: int
    monitor_id: str
    prediction_id: str
    at: datetime
    prediction: str | None
    score: float | None
    model_label: int | None  # the model's class: its prediction, else score >= threshold
    confidence: float | None
    reason: ReviewReason
    features: dict[str, JsonFloat | str | bool | None]
    label: float | None  # the label stored for the prediction now
    votes: tuple[ReviewVote, ...] = ()


@dataclass(frozen=True)
class QueueStats:
    waiting: int  # items that still need a review
    reviewed: int  # items with every review they need
    double_reviewed: int  # items with two reviews
    corrections: int  # reviewed items whose label differs from the model's answer


@dataclass(frozen=True)
class Agreement:
    """Cohen's kappa between first and second reviews of the items reviewed twice."""

    items: int
    observed: JsonFloat | None  # share of items where both reviewers agree
    kappa: JsonFloat | None  # None with fewer than 2 items, or no variation at all
