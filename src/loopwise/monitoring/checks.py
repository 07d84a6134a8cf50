"""One window's (or one batch's) result: read its profiles and prediction rows, judge it
with the pure rules of ``monitoring.evaluate``, store it.

Reading is bounded by the window, not by all the data: the profiles of the batches that
touched the window (small JSON documents), their row samples (at most
``numeric.sample.SAMPLE_ROWS`` rows each, merged into one of that size) and, for
performance, CBPE and serving, the prediction rows of that window read in partitions of
``PART`` rows into NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from loopwise.core.context import Context
from loopwise.core.ids import new_id
from loopwise.monitoring import evaluate
from loopwise.monitoring.models import (
    CheckKind,
    CheckOutcome,
    ColumnResult,
    Monitor,
    Operations,
    Scope,
)
from loopwise.monitoring.service import reference_profile, reference_sample
from loopwise.monitoring.tables import (
    BatchProfileRow,
    CheckResultRow,
    ColumnResultRow,
    MonitorRow,
    PredictionRow,
    ResultRow,
)
from loopwise.numeric import sample, sketch
from loopwise.numeric.drift import DatasetDrift, DriftResult

PART = 50_000


@dataclass(frozen=True)
class Computed:
    """A result before it is stored."""

    window_start: datetime | None
    window_end: datetime | None
    generation: int
    rows: int
    features: tuple[ColumnResult, ...]
    prediction: tuple[ColumnResult, ...]
    drifted_columns: int
    drift_share: float | None
    data_drift: bool
    realised: dict[str, float]
    labelled: int
    estimated: dict[str, float]
    operations: Operations
    outcomes: tuple[CheckOutcome, ...]


def _floats(ctx: Context, column: Any, *where: Any) -> np.ndarray:
    result = ctx.session.execute(select(column).where(*where).execution_options(yield_per=PART))
    parts = [np.fromiter((r[0] for r in part), dtype=float) for part in result.partitions()]
    return np.concatenate(parts) if parts else np.empty(0)


def _labelled(ctx: Context, *where: Any) -> tuple[np.ndarray, np.ndarray]:
    """(labels, scores) of labelled predictions; a prediction stands in for a missing
    score when it is a number (hard 0/1 predictions)."""
    import pandas as pd

    result = ctx.session.execute(
        select(PredictionRow.label, PredictionRow.score, PredictionRow.prediction)
        .where(*where, PredictionRow.label.is_not(None))
        .execution_options(yield_per=PART)
    )
    labels, scores = [], []
    for part in result.partitions():
        y = np.fromiter((r[0] for r in part), dtype=float)
        s = np.fromiter((np.nan if r[1] is None else r[1] for r in part), dtype=float)
        missing = np.isnan(s)
        if missing.any():
            guess = pd.to_numeric(pd.Series([r[2] for r in part]), errors="coerce").to_numpy(float)
            s = np.where(missing, guess, s)
        keep = np.isfinite(s)
        labels.append(y[keep])
        scores.append(s[keep])
    if not labels:
        return np.empty(0), np.empty(0)
    return np.concatenate(labels), np.concatenate(scores)


def _merged(profiles: Sequence[dict[str, Any]]) -> sketch.Profile | None:
    merged: sketch.Profile | None = None
    for doc in profiles:
        part = sketch.profile_from_dict(doc)
        merged = part if merged is None else sketch.merge(merged, part)
    return merged


def _window_sample(
    ctx: Context, row: MonitorRow, window_start: datetime
) -> sample.RowSample | None:
    """The merge of the window's batch samples (None when no batch sent rows): uniform
    over all its rows, seeded by the window, so the same data give the same sample."""
    docs = ctx.session.scalars(
        select(BatchProfileRow.sample)
        .where(
            BatchProfileRow.monitor_id == row.id,
            BatchProfileRow.window_start == window_start,
            BatchProfileRow.sample.is_not(None),
        )
        .order_by(BatchProfileRow.batch_id)
    ).all()
    parts = [sample.sample_from_dict(d) for d in docs if d]
    rng = np.random.default_rng(int(window_start.timestamp()))
    return sample.merge_all(parts, sample.SAMPLE_ROWS, rng)


def _judged(
    monitor: Monitor,
    current: sketch.Profile | None,
    reference: sketch.Profile,
    **measured: Any,
) -> tuple[
    tuple[ColumnResult, ...],
    tuple[ColumnResult, ...],
    DatasetDrift | None,
    tuple[CheckOutcome, ...],
]:
    features: list[DriftResult] = []
    prediction: list[DriftResult] = []
    if current is not None:
        features, prediction = evaluate.drift(monitor, reference, current)
    rows = current.rows if current is not None else 0
    found = evaluate.share(features, evaluate.drift_threshold(monitor))
    outcomes = evaluate.judge(
        monitor, rows=rows, features=features, prediction=prediction, **measured
    )
    return (
        tuple(evaluate.to_column(r) for r in features),
        tuple(evaluate.to_column(r) for r in prediction),
        found,
        outcomes,
    )


def compute_window(
    ctx: Context,
    row: MonitorRow,
    monitor: Monitor,
    window_start: datetime,
    window_end: datetime,
    generation: int,
) -> Computed:
    docs = ctx.session.scalars(
        select(BatchProfileRow.profile).where(
            BatchProfileRow.monitor_id == row.id, BatchProfileRow.window_start == window_start
        )
    ).all()
    current = _merged(docs)
    in_window = (PredictionRow.monitor_id == row.id, PredictionRow.window_start == window_start)
    predictions, errors = ctx.session.execute(
        select(func.count(), func.count(PredictionRow.error)).where(*in_window)
    ).one()
    scores = _floats(ctx, PredictionRow.score, *in_window, PredictionRow.score.is_not(None))
    latencies = _floats(
        ctx, PredictionRow.latency_ms, *in_window, PredictionRow.latency_ms.is_not(None)
    )
    labels, paired = _labelled(ctx, *in_window)
    threshold = monitor.score_threshold
    realised = evaluate.realised(labels, paired, threshold)
    estimated = evaluate.estimated(scores, threshold)
    span = min(ctx.clock.now(), window_end) - window_start
    hours = max(span, timedelta(minutes=1)).total_seconds() / 3600
    ops = evaluate.operations(int(predictions), int(errors), latencies, hours)
    domain: DriftResult | str = "not a check of this monitor"
    if any(c.kind is CheckKind.MULTIVARIATE_DRIFT for c in monitor.checks):
        domain = evaluate.multivariate(
            monitor, reference_sample(row), _window_sample(ctx, row, window_start)
        )
    features, prediction, found, outcomes = _judged(
        monitor,
        current,
        reference_profile(row),
        domain=domain,
        realised_metrics=realised,
        labelled=int(labels.size),
        estimated_metrics=estimated,
        scored=int(scores.size),
        ops=ops,
    )
    return Computed(
        window_start=window_start,
        window_end=window_end,
        generation=generation,
        rows=current.rows if current is not None else 0,
        features=features,
        prediction=prediction,
        drifted_columns=found.drifted_columns if found else 0,
        drift_share=found.share if found else None,
        data_drift=bool(found.drifted) if found else False,
        realised=realised,
        labelled=int(labels.size),
        estimated=estimated,
        operations=ops,
        outcomes=outcomes,
    )


def store(
    ctx: Context,
    row: MonitorRow,
    computed: Computed,
    *,
    scope: Scope,
    batch_id: str | None = None,
    worker: str = "",
) -> ResultRow:
    result = ResultRow(
        id=new_id("mr"),
        monitor_id=row.id,
        scope=scope.value,
        batch_id=batch_id,
        window_start=computed.window_start,
        window_end=computed.window_end,
        generation=computed.generation,
        rows=computed.rows,
        drifted_columns=computed.drifted_columns,
        drift_share=computed.drift_share,
        data_drift=computed.data_drift,
        realised=computed.realised,
        labelled=computed.labelled,
        estimated=computed.estimated,
        operations=asdict(computed.operations),
        computed_at=ctx.clock.now(),
        worker=worker[:100],
    )
    ctx.session.add(result)
    ctx.session.flush()
    for is_prediction, found in ((False, computed.features), (True, computed.prediction)):
        ctx.session.add_all(
            ColumnResultRow(
                result_id=result.id,
                column=c.column,
                is_prediction=is_prediction,
                kind=c.kind.value,
                test=c.test.value,
                statistic=c.statistic,
                p_value=c.p_value,
                threshold=c.threshold,
                drifted=c.drifted,
            )
            for c in found
        )
    ctx.session.add_all(
        CheckResultRow(
            result_id=result.id,
            check=o.kind.value,
            status=o.status.value,
            value=o.value,
            threshold=o.threshold,
            severity=o.severity.value,
            detail=o.detail[:2000],
        )
        for o in computed.outcomes
    )
    ctx.session.flush()
    return result


def store_batch_result(
    ctx: Context, row: MonitorRow, monitor: Monitor, batch_id: str, profile: sketch.Profile
) -> ResultRow:
    """A batch's drift against the reference (alerts are decided on windows, not here)."""
    features, prediction, found, outcomes = _judged(
        monitor,
        profile,
        reference_profile(row),
        realised_metrics={},
        labelled=0,
        estimated_metrics={},
        scored=0,
        ops=Operations(),
    )
    computed = Computed(
        window_start=None,
        window_end=None,
        generation=0,
        rows=profile.rows,
        features=features,
        prediction=prediction,
        drifted_columns=found.drifted_columns if found else 0,
        drift_share=found.share if found else None,
        data_drift=bool(found.drifted) if found else False,
        realised={},
        labelled=0,
        estimated={},
        operations=Operations(),
        outcomes=outcomes,
    )
    return store(ctx, row, computed, scope=Scope.BATCH, batch_id=batch_id)
