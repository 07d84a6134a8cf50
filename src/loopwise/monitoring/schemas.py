"""Wire models for the monitoring slice, shared by the API, the CLI and the SDK."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from loopwise.core.limits import MAX_BATCH, shallow
from loopwise.core.types import Name, StrictIn, Text, UTCDate
from loopwise.monitoring.models import CheckKind, Metric, Severity, WebhookEvent, Window
from loopwise.numeric.drift import DriftTest

Column = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=250)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class ColumnOverride(StrictIn):
    """Another test or threshold for one column (its kind comes from the reference)."""

    column: Column
    test: DriftTest | None = None
    threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None


class CheckIn(StrictIn):
    kind: CheckKind
    threshold: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = Field(
        default=None,
        description="data_drift: share of drifted columns (default the monitor's "
        "drift_share); performance checks: the largest drop below the baseline (0.05); "
        "error_rate: share (0.05); latency: p95 in ms (1000); multivariate_drift: the "
        "domain classifier's ROC AUC, above 0.5 and below 1 (0.55). Drift of the "
        "prediction is judged by its column test.",
    )
    severity: Severity | None = None
    metric: Metric | None = Field(default=None, description="Performance checks; default f1.")
    baseline: Annotated[float, Field(allow_inf_nan=False)] | None = Field(
        default=None,
        description="Performance checks: the expected value; default the reference's "
        "realised value, then the model version's metric of that name.",
    )


class RolesIn(StrictIn):
    """Column names of uploaded batches that are not features."""

    prediction_id: Column = "prediction_id"
    timestamp: Column = "timestamp"
    prediction: Column = "prediction"
    score: Column = "score"
    label: Column = "label"
    latency_ms: Column = "latency_ms"
    error: Column = "error"


class MonitorCreate(StrictIn):
    name: Name
    description: Text = ""
    reference_version_id: Id = Field(description="The reference dataset version (dsv_...).")
    model: Name | None = Field(default=None, description="Registered model name.")
    model_version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Its version; default the one in production."
    )
    features: list[Column] | None = Field(
        default=None,
        max_length=2000,
        description="Columns to watch; default every column of the reference schema that "
        "is neither a datetime nor one of the roles.",
    )
    overrides: list[ColumnOverride] = Field(default_factory=list, max_length=2000)
    checks: list[CheckIn] | None = Field(
        default=None,
        max_length=20,
        description="Default: data_drift, prediction_drift, estimated_performance, "
        "performance, error_rate, latency (those the data allow are judged); "
        "multivariate_drift (a classifier per window) only when named.",
    )
    roles: RolesIn = Field(default_factory=RolesIn)
    window: Window = Window.DAY
    min_rows: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        default=30, description="Windows with fewer rows are not judged."
    )
    drift_share: Share = 0.5
    score_threshold: Unit = 0.5

    @model_validator(mode="after")
    def _unique(self) -> MonitorCreate:
        kinds = [c.kind for c in self.checks or ()]
        if len(kinds) != len(set(kinds)):
            raise ValueError("each check kind may appear once")
        columns = [o.column for o in self.overrides]
        if len(columns) != len(set(columns)):
            raise ValueError("each column may be overridden once")
        if self.model_version is not None and self.model is None:
            raise ValueError("model_version needs model")
        return self


class MonitorUpdate(StrictIn):
    description: Text | None = None
    overrides: list[ColumnOverride] | None = Field(default=None, max_length=2000)
    checks: list[CheckIn] | None = Field(default=None, max_length=20)
    window: Window | None = None
    min_rows: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    active: bool | None = None


Profile = Annotated[dict[str, Any], AfterValidator(shallow)]


class ProfileBatchIn(StrictIn):
    """A batch summarised where the data live (``numeric.sketch.profile_to_dict``): only
    drift is judged from it; no per-prediction rows are stored."""

    profile: Profile
    at: UTCDate | None = Field(default=None, description="The batch's time; default now.")


class LabelIn(StrictIn):
    prediction_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    label: Annotated[float, Field(allow_inf_nan=False)]


class LabelsIn(StrictIn):
    labels: list[LabelIn] = Field(min_length=1, max_length=MAX_BATCH)


# --- webhooks ---------------------------------------------------------------------------


def _http_url(value: str) -> str:
    """An absolute http(s) URL with a host; anything else (file:, ftp:, javascript:,
    relative paths) is refused."""
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("use an http:// or https:// URL with a host")
    if any(c in value for c in "\r\n\t "):
        raise ValueError("a URL has no spaces or line breaks")
    return value


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(_http_url),
]
Secret = Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=200)]


class WebhookCreate(StrictIn):
    name: Name
    url: Url = Field(description="Where alerts are POSTed (http or https).")
    secret: Secret | None = Field(
        default=None,
        description="The HMAC-SHA256 key of the signatures; default a new random one. "
        "Shown once in the answer, never again.",
    )
    events: list[WebhookEvent] = Field(
        default_factory=lambda: list(WebhookEvent), min_length=1, max_length=len(WebhookEvent)
    )


class WebhookUpdate(StrictIn):
    url: Url | None = None
    active: bool | None = None


# --- the review queue -------------------------------------------------------------------


class ReviewSettingsIn(StrictIn):
    enabled: bool = True
    confidence_below: Annotated[float, Field(ge=0.5, le=1, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Predictions whose confidence max(score, 1 - score) is below this go "
        "to the queue (0.6: scores between 0.4 and 0.6).",
    )
    sample_rate: Unit = Field(
        default=0.0, description="Share of the other predictions sampled into the queue."
    )
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    classes: list[Annotated[int, Field(ge=0, le=9)]] = Field(
        default_factory=lambda: [0, 1],
        min_length=2,
        max_length=10,
        description="The labels a reviewer may give (0..9, one key each).",
    )
    reviews_per_item: Annotated[int, Field(ge=1, le=2)] = Field(
        default=1, description="2: every item waits for a second reviewer (agreement)."
    )

    @model_validator(mode="after")
    def _distinct(self) -> ReviewSettingsIn:
        if len(set(self.classes)) != len(self.classes):
            raise ValueError("each class may appear once")
        self.classes = sorted(self.classes)
        return self


class ReviewIn(StrictIn):
    """An answer (``label``) or a skip."""

    label: Annotated[int, Field(ge=0, le=9)] | None = None
    skip: bool = False

    @model_validator(mode="after")
    def _one(self) -> ReviewIn:
        if (self.label is None) == (not self.skip):
            raise ValueError("give a label or skip (one of the two)")
        return self


class ExportIn(StrictIn):
    dataset: Name | None = Field(
        default=None, description="Dataset to add the version to; default <monitor>-reviews."
    )
