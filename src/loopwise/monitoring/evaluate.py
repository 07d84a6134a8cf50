"""The monitoring rules as pure functions: windows, drift of a window against the
reference, the checks' verdicts, and whether an alert opens, stays or resolves.

Callers (monitoring.jobs, monitoring.ingest) read and write the database; nothing here
does. The rules, stated once:

- Windows are aligned to UTC: hours and days from midnight, weeks from Monday 00:00.
- A window with fewer than ``min_rows`` rows (labelled rows for realised performance,
  scored rows for estimated performance) is not judged: its checks are ``unknown``.
- data_drift breaches when the share of drifted feature columns reaches its threshold
  (``numeric.drift.dataset_drift``); prediction_drift when the prediction or score column
  drifted by its own test; performance and estimated_performance when the metric falls
  more than the threshold below the baseline; error_rate when the share of predictions
  logged with an error exceeds it; latency when the 95th percentile exceeds it (ms);
  multivariate_drift when a classifier tells the window's sampled rows from the
  reference's sampled rows with a cross-validated ROC AUC at or above it
  (``numeric.drift.domain_classifier_drift``; both samples need ``MULTIVARIATE_MIN_ROWS``
  rows, and a window with only profiles sent by the SDK has no sample: not judged).
- An alert opens when a check breaches and none is open for that monitor and check; an
  open alert is updated by each later breaching window and resolved by the first later
  window where the check passes. A window older than the newest one judged for that check
  changes nothing (a late backfill does not reopen or resolve the present).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np

from loopwise.core.errors import InvalidInput
from loopwise.monitoring.models import (
    CheckKind,
    CheckOutcome,
    ColumnResult,
    ColumnSpec,
    Metric,
    Monitor,
    Operations,
    Status,
    Window,
)
from loopwise.numeric import cbpe, sketch
from loopwise.numeric import sample as samples
from loopwise.numeric.drift import (
    DatasetDrift,
    DriftResult,
    DriftTest,
    dataset_drift,
    domain_classifier_drift,
)

MULTIVARIATE_AUC = 0.55  # numeric.drift.domain_classifier_drift's default threshold
MULTIVARIATE_MIN_ROWS = 100  # sampled rows each side needs (and the monitor's min_rows)

# Weeks start on Monday: 1970-01-05 was one (hours and days align to it as well).
ORIGIN = np.datetime64("1970-01-05T00:00:00", "us")
_ORIGIN_DT = datetime(1970, 1, 5, tzinfo=UTC)


def window_starts(moments: np.ndarray, window: Window) -> np.ndarray:
    """The start of each moment's window (``datetime64[us]``, naive UTC, in and out)."""
    step = np.timedelta64(int(window.length.total_seconds() * 1_000_000), "us")
    offsets = (moments - ORIGIN) // step
    return ORIGIN + offsets * step


def window_start(moment: datetime, window: Window) -> datetime:
    step = window.length
    return _ORIGIN_DT + ((moment.astimezone(UTC) - _ORIGIN_DT) // step) * step


# --- drift ------------------------------------------------------------------------------


def to_column(result: DriftResult) -> ColumnResult:
    return ColumnResult(
        column=result.column,
        kind=result.kind,
        test=result.test,
        statistic=float(result.statistic),
        p_value=None if result.p_value is None else float(result.p_value),
        threshold=float(result.threshold),
        drifted=bool(result.drifted),
    )


def overrides(
    specs: Sequence[ColumnSpec],
) -> dict[str, tuple[DriftTest | None, float | None]]:
    return {c.name: (c.test, c.threshold) for c in specs if c.test or c.threshold is not None}


def drift(
    monitor: Monitor, reference: sketch.Profile, current: sketch.Profile
) -> tuple[list[DriftResult], list[DriftResult]]:
    """(feature columns, prediction columns) drift of ``current`` against the reference.
    A column is judged when both sides hold values of it; a column whose chosen test
    cannot run on these profiles (chi-square on a continuous sketch) is left out."""
    chosen = overrides([*monitor.columns, *monitor.predictions])
    features = {c.name for c in monitor.columns}
    found: tuple[list[DriftResult], list[DriftResult]] = ([], [])
    for spec in (*monitor.columns, *monitor.predictions):
        ref, cur = reference.columns.get(spec.name), current.columns.get(spec.name)
        if ref is None or cur is None or not ref.count or not cur.count:
            continue
        try:
            (result,) = sketch.profile_drift(
                sketch.Profile(reference.rows, {spec.name: ref}),
                sketch.Profile(current.rows, {spec.name: cur}),
                {k: v for k, v in chosen.items() if k == spec.name},
            )
        except InvalidInput:
            continue
        found[0 if spec.name in features else 1].append(result)
    return found


def drift_threshold(monitor: Monitor) -> float:
    """The share of drifted columns at which the data drift (the data_drift check's)."""
    spec = next((c for c in monitor.checks if c.kind is CheckKind.DATA_DRIFT), None)
    return spec.threshold if spec and spec.threshold is not None else monitor.drift_share


def share(features: Sequence[DriftResult], threshold: float) -> DatasetDrift | None:
    if not features:
        return None
    return dataset_drift(features, share=threshold)


def multivariate_threshold(monitor: Monitor) -> float:
    spec = next((c for c in monitor.checks if c.kind is CheckKind.MULTIVARIATE_DRIFT), None)
    return spec.threshold if spec and spec.threshold is not None else MULTIVARIATE_AUC


def multivariate(
    monitor: Monitor,
    reference: samples.RowSample | None,
    current: samples.RowSample | None,
    seed: int = 0,
) -> DriftResult | str:
    """The domain classifier on the two row samples (its result), or why it cannot run.
    Categorical columns are ordinal codes of the reference's most frequent categories
    (``numeric.sample.encode``)."""
    needed = max(MULTIVARIATE_MIN_ROWS, monitor.min_rows)
    if reference is None:
        return "no sample of the reference (the monitor was created before samples were kept)"
    if current is None:
        return "no sample: the window's batches were sent as profiles (no rows)"
    if current.size < needed or reference.size < needed:
        return f"{min(current.size, reference.size)} sampled rows; at least {needed} are needed"
    kinds = {c.name: c.kind for c in monitor.columns}
    ref, cur, names = samples.encode(reference, current, kinds)
    if not names:
        return "no feature column in both samples"
    return domain_classifier_drift(ref, cur, threshold=multivariate_threshold(monitor), seed=seed)


# --- performance and serving ------------------------------------------------------------


def _finite_fields(value: Any) -> dict[str, float]:
    data = asdict(value) if is_dataclass(value) and not isinstance(value, type) else dict(value)
    return {
        m.value: float(data[m.value])
        for m in Metric
        if isinstance(data.get(m.value), int | float) and math.isfinite(data[m.value])
    }


def realised(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    """Performance on labelled predictions; {} unless the labels are binary (0/1)."""
    if labels.size == 0 or not np.isin(labels, (0.0, 1.0)).all():
        return {}
    return _finite_fields(cbpe.realised_performance(labels, scores, threshold))


def estimated(scores: np.ndarray, threshold: float) -> dict[str, float]:
    """CBPE: the expected performance if the scores are calibrated probabilities."""
    if scores.size == 0 or not ((scores >= 0) & (scores <= 1)).all():
        return {}
    return _finite_fields(cbpe.estimate_performance(scores, threshold))


def operations(predictions: int, errors: int, latencies: np.ndarray, hours: float) -> Operations:
    lat = latencies[np.isfinite(latencies)]
    p50, p95, p99 = (
        (float(v) for v in np.percentile(lat, (50, 95, 99))) if lat.size else (None,) * 3
    )
    return Operations(
        predictions=predictions,
        per_hour=predictions / hours if predictions and hours > 0 else None,
        errors=errors,
        error_rate=errors / predictions if predictions else None,
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_p99_ms=p99,
    )


# --- checks -----------------------------------------------------------------------------


def judge(
    monitor: Monitor,
    *,
    rows: int,
    features: Sequence[DriftResult],
    prediction: Sequence[DriftResult],
    realised_metrics: Mapping[str, float],
    labelled: int,
    estimated_metrics: Mapping[str, float],
    scored: int,
    ops: Operations,
    domain: DriftResult | str = "judged per window, not per batch",
) -> tuple[CheckOutcome, ...]:
    """Each check of the monitor, judged on one window's (or batch's) numbers.
    ``domain``: the multivariate check's classifier result, or why there is none."""
    out = []
    small = rows < monitor.min_rows
    for spec in monitor.checks:
        status, value, threshold, detail = Status.UNKNOWN, None, spec.threshold, ""
        if spec.kind is CheckKind.DATA_DRIFT:
            threshold = drift_threshold(monitor)
            found = share(features, threshold)
            if small:
                detail = f"{rows} rows; at least {monitor.min_rows} are needed"
            elif found is None:
                detail = "no feature column in common with the reference"
            else:
                value = found.share
                status = Status.BREACHED if found.drifted else Status.OK
                detail = f"{found.drifted_columns} of {found.columns} columns drifted"
        elif spec.kind is CheckKind.PREDICTION_DRIFT:
            if small:
                detail = f"{rows} rows; at least {monitor.min_rows} are needed"
            elif not prediction:
                detail = "the reference or the window has no prediction or score column"
            else:
                first = next((p for p in prediction if p.drifted), prediction[0])
                value, threshold = first.statistic, first.threshold
                status = Status.BREACHED if first.drifted else Status.OK
                detail = f"{first.column}: {first.test.value}"
        elif spec.kind in (CheckKind.PERFORMANCE, CheckKind.ESTIMATED_PERFORMANCE):
            realised_kind = spec.kind is CheckKind.PERFORMANCE
            metric = (spec.metric or Metric.ROC_AUC).value
            count = labelled if realised_kind else scored
            measured = (realised_metrics if realised_kind else estimated_metrics).get(metric)
            drop = spec.threshold if spec.threshold is not None else 0.05
            if count < monitor.min_rows:
                what = "labelled" if realised_kind else "scored"
                detail = f"{count} {what} predictions; at least {monitor.min_rows} are needed"
            elif measured is None:
                detail = f"{metric} is not measurable here"
            elif spec.baseline is None:
                value, detail = measured, "no baseline to compare with"
            else:
                value, threshold = measured, spec.baseline - drop
                status = Status.BREACHED if measured < spec.baseline - drop else Status.OK
                detail = f"{metric} {measured:.4g} against baseline {spec.baseline:.4g}"
        elif spec.kind is CheckKind.ERROR_RATE:
            threshold = spec.threshold if spec.threshold is not None else 0.05
            if ops.predictions < monitor.min_rows or ops.error_rate is None:
                detail = f"{ops.predictions} predictions logged"
            else:
                value = ops.error_rate
                status = Status.BREACHED if value > threshold else Status.OK
        elif spec.kind is CheckKind.LATENCY:
            threshold = spec.threshold if spec.threshold is not None else 1000.0
            if ops.latency_p95_ms is None:
                detail = "no latency logged"
            else:
                value = ops.latency_p95_ms
                status = Status.BREACHED if value > threshold else Status.OK
        elif spec.kind is CheckKind.MULTIVARIATE_DRIFT:
            threshold = multivariate_threshold(monitor)
            if small:
                detail = f"{rows} rows; at least {monitor.min_rows} are needed"
            elif isinstance(domain, str):
                detail = domain
            else:
                value, threshold = float(domain.statistic), float(domain.threshold)
                status = Status.BREACHED if domain.drifted else Status.OK
                detail = f"domain classifier ROC AUC {value:.3f}"
        out.append(
            CheckOutcome(
                kind=spec.kind,
                status=status,
                value=value,
                threshold=None if threshold is None else float(threshold),
                severity=spec.severity,
                detail=detail,
            )
        )
    return tuple(out)


# --- alerts -----------------------------------------------------------------------------


class Action(StrEnum):
    NONE = "none"
    OPEN = "open"
    UPDATE = "update"  # still breached: the alert takes this window as its latest evidence
    RESOLVE = "resolve"


def decide_alert(
    status: Status,
    window: datetime,
    *,
    open_since: datetime | None,
    open_last: datetime | None,
    newest_judged: datetime | None,
) -> Action:
    """What one check's outcome for ``window`` does to its alert.

    ``open_since``/``open_last``: the first and latest windows of the open alert (None
    when none is open); ``newest_judged``: the newest other window whose outcome for this
    check was known. Older windows than the newest judged change nothing."""
    if status is Status.UNKNOWN:
        return Action.NONE
    if newest_judged is not None and window < newest_judged:
        return Action.NONE
    if open_since is None:
        return Action.OPEN if status is Status.BREACHED else Action.NONE
    if open_last is not None and window < open_last:
        return Action.NONE
    return Action.UPDATE if status is Status.BREACHED else Action.RESOLVE
