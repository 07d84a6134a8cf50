"""Monitor use cases: create, read, change; the reference profiled once; results and
alerts read back for the doors.

A monitor's feature columns and their kinds come from the reference dataset version's
schema (the data slice profiled it at registration); users override the test and the
threshold per column. The reference's data are read once, in record batches, into a
mergeable profile (``numeric.sketch``) stored with the monitor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import TypeAdapter
from sqlalchemy import func, select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.data import io as data_io
from loopwise.data import service as data
from loopwise.data.models import DataFormat, DatasetVersion
from loopwise.monitoring import arrays, evaluate
from loopwise.monitoring.models import (
    SCHEMA_KINDS,
    Alert,
    AlertState,
    Batch,
    CheckKind,
    CheckOutcome,
    CheckSpec,
    ColumnResult,
    ColumnSpec,
    Metric,
    Monitor,
    Operations,
    Result,
    Roles,
    Scope,
    Severity,
    Status,
    Window,
)
from loopwise.monitoring.schemas import CheckIn, ColumnOverride, MonitorCreate, MonitorUpdate
from loopwise.monitoring.tables import (
    AlertRow,
    CheckResultRow,
    ColumnResultRow,
    MonitorBatchRow,
    MonitorRow,
    ResultRow,
)
from loopwise.numeric import drift, sample, sketch
from loopwise.numeric.drift import ColumnKind
from loopwise.planning.items import service as items
from loopwise.projects import service as projects
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion

if TYPE_CHECKING:
    import pyarrow as pa

DEFAULT_CHECKS: dict[CheckKind, tuple[float | None, Severity]] = {
    CheckKind.DATA_DRIFT: (None, Severity.WARNING),  # the monitor's drift_share
    CheckKind.PREDICTION_DRIFT: (None, Severity.WARNING),  # the column test's threshold
    CheckKind.ESTIMATED_PERFORMANCE: (0.05, Severity.WARNING),
    CheckKind.PERFORMANCE: (0.05, Severity.CRITICAL),
    CheckKind.ERROR_RATE: (0.05, Severity.CRITICAL),
    CheckKind.LATENCY: (1000.0, Severity.WARNING),
    CheckKind.MULTIVARIATE_DRIFT: (evaluate.MULTIVARIATE_AUC, Severity.WARNING),
}
# The checks of a monitor created without a list: all but the multivariate one, which
# trains a classifier per window (about a second); name it to have it.
DEFAULT_SET = tuple(k for k in DEFAULT_CHECKS if k is not CheckKind.MULTIVARIATE_DRIFT)
# Labels and scores of the reference read for its realised performance (the first rows).
REFERENCE_PERFORMANCE_ROWS = 1_000_000

_COLUMNS = TypeAdapter(list[ColumnSpec])
_CHECKS = TypeAdapter(list[CheckSpec])
_OPS = TypeAdapter(Operations)


# --- reading ----------------------------------------------------------------------------


def monitor_row(ctx: Context, project_key: str, name: str, needed: Role) -> MonitorRow:
    project = projects.resolve_project(ctx, project_key, needed)
    row = ctx.session.scalar(
        select(MonitorRow).where(MonitorRow.project_id == project.id, MonitorRow.name == name)
    )
    if row is None:
        raise NotFound(f"{project.key} has no monitor {name!r}")
    return row


def to_monitor(ctx: Context, row: MonitorRow, project_key: str | None = None) -> Monitor:
    key = project_key or projects.project_keys(ctx, {row.project_id})[row.project_id]
    model, version = None, None
    if row.model_version_id:
        mv = registry.version_by_id(ctx, row.model_version_id)
        model, version = mv.model, mv.version
    specs = _COLUMNS.validate_python(row.columns)
    return Monitor(
        id=row.id,
        project_key=key,
        name=row.name,
        description=row.description,
        model=model,
        model_version=version,
        model_version_id=row.model_version_id,
        reference_version_id=row.reference_version_id,
        columns=tuple(c for c in specs if not _is_prediction(row, c.name)),
        predictions=tuple(c for c in specs if _is_prediction(row, c.name)),
        checks=tuple(_CHECKS.validate_python(row.checks)),
        roles=Roles(**row.roles),
        window=Window(row.window),
        min_rows=row.min_rows,
        drift_share=row.drift_share,
        score_threshold=row.score_threshold,
        reference_rows=row.reference_rows,
        reference_performance=dict(row.reference_performance),
        active=row.active,
        created_at=row.created_at,
    )


def _is_prediction(row: MonitorRow, column: str) -> bool:
    return column in (row.roles.get("prediction"), row.roles.get("score"))


def get_monitor(ctx: Context, project_key: str, name: str) -> Monitor:
    return to_monitor(ctx, monitor_row(ctx, project_key, name, Role.VIEWER), project_key.upper())


def list_monitors(ctx: Context, project_key: str) -> list[Monitor]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(MonitorRow).where(MonitorRow.project_id == project.id).order_by(MonitorRow.name)
    )
    return [to_monitor(ctx, r, project.key) for r in rows]


def reference_profile(row: MonitorRow) -> sketch.Profile:
    return sketch.profile_from_dict(row.reference_profile)


def reference_sample(row: MonitorRow) -> sample.RowSample | None:
    return sample.sample_from_dict(row.reference_sample) if row.reference_sample else None


# --- creating ---------------------------------------------------------------------------


def _reference(ctx: Context, project_key: str, version_id: str) -> tuple[DatasetVersion, Path]:
    version = data.get_version(ctx, version_id)
    if version.project_key != project_key:
        raise InvalidInput(f"dataset version {version_id} belongs to project {version.project_key}")
    if not version.schema:
        raise InvalidInput(f"dataset version {version_id} has no schema: it was not profiled")
    path = Path(version.location)
    if not path.is_absolute() or not path.exists():
        raise InvalidInput(
            f"the data of dataset version {version_id} are not readable here ({version.location})"
        )
    return version, path


def _columns(
    version: DatasetVersion, roles: Roles, features: Sequence[str] | None, given: Sequence[Any]
) -> list[ColumnSpec]:
    schema = dict(version.schema)
    role_names = {roles.prediction_id, roles.timestamp, roles.label, roles.latency_ms, roles.error}
    predictions = [c for c in (roles.prediction, roles.score) if c in schema]
    if features is None:
        chosen = [
            n
            for n, k in version.schema
            if k in SCHEMA_KINDS and n not in role_names and n not in predictions
        ]
    else:
        missing = [f for f in features if f not in schema]
        if missing:
            raise InvalidInput(f"the reference has no column {missing[0]!r}")
        chosen = list(dict.fromkeys(features))
    for name in chosen:
        if schema[name] not in SCHEMA_KINDS:
            raise InvalidInput(f"column {name!r} is a {schema[name]}: it cannot be monitored")
    if not chosen and not predictions:
        raise InvalidInput("the reference has no column to monitor")
    by_name: dict[str, ColumnOverride] = {o.column: o for o in given}
    unknown = set(by_name) - set(chosen) - set(predictions)
    if unknown:
        raise InvalidInput(f"an override names a column not monitored: {sorted(unknown)[0]!r}")
    return [
        _spec(name, SCHEMA_KINDS[schema[name]], schema[name], by_name.get(name))
        for name in [*chosen, *[p for p in predictions if SCHEMA_KINDS.get(schema[p])]]
    ]


def _spec(name: str, kind: ColumnKind, dtype: str, given: ColumnOverride | None) -> ColumnSpec:
    """A column's spec; an override's test must suit the column's kind."""
    if given is not None and given.test is not None:
        threshold = given.threshold
        drift.check_choice(
            name,
            kind,
            given.test,
            drift.default_threshold(given.test) if threshold is None else threshold,
        )
    return ColumnSpec(
        name=name,
        kind=kind,
        dtype=dtype,
        test=given.test if given else None,
        threshold=given.threshold if given else None,
    )


def _checks(
    given: Sequence[CheckIn] | None,
    reference_performance: dict[str, float],
    model_metrics: dict[str, float],
    drift_share: float,
) -> list[CheckSpec]:
    chosen = list(given) if given is not None else [CheckIn(kind=k) for k in DEFAULT_SET]
    specs = []
    for c in chosen:
        default, severity = DEFAULT_CHECKS[c.kind]
        threshold = c.threshold if c.threshold is not None else default
        if c.kind is CheckKind.DATA_DRIFT and threshold is None:
            threshold = drift_share
        if c.kind is CheckKind.DATA_DRIFT and not 0 < threshold <= 1:  # type: ignore[operator]
            raise InvalidInput("a data_drift threshold is a share of columns: above 0, at most 1")
        if c.kind is CheckKind.MULTIVARIATE_DRIFT and not 0.5 < threshold < 1:  # type: ignore[operator]
            raise InvalidInput("a multivariate_drift threshold is a ROC AUC: above 0.5, below 1")
        metric, baseline = None, None
        if c.kind in (CheckKind.PERFORMANCE, CheckKind.ESTIMATED_PERFORMANCE):
            metric = c.metric or Metric.ROC_AUC
            baseline = c.baseline
            if baseline is None:
                baseline = reference_performance.get(metric.value, model_metrics.get(metric.value))
        specs.append(CheckSpec(c.kind, threshold, c.severity or severity, metric, baseline))
    return specs


def _profile_reference(
    path: Path,
    fmt: DataFormat,
    specs: Sequence[ColumnSpec],
    features: Sequence[ColumnSpec],
    roles: Roles,
    threshold: float,
) -> tuple[sketch.Profile, int, dict[str, float], sample.RowSample]:
    """The reference read once in record batches: its profile, rows, its realised
    performance when it holds labels and scores (0/1 labels; the first rows), and a
    uniform sample of its feature rows (``numeric.sample``, seeded: the same reference
    gives the same sample)."""
    fmt = data_io.detect_format(path) if fmt is DataFormat.DVC else fmt
    _schema, stream = data_io.batches(path, fmt)
    rows = 0
    labels: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    kept = 0
    rng = np.random.default_rng(0)
    rows_sample = sample.RowSample(0, {})

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal rows, kept, rows_sample
        for batch in stream:
            rows += batch.num_rows
            part = sample.sample_rows(
                arrays.feature_columns(batch, features), sample.SAMPLE_ROWS, rng
            )
            rows_sample = sample.merge(rows_sample, part, sample.SAMPLE_ROWS, rng)
            names = batch.schema.names
            if roles.label in names and roles.score in names and kept < REFERENCE_PERFORMANCE_ROWS:
                y = arrays.floats(batch.column(roles.label), roles.label)
                s = arrays.floats(batch.column(roles.score), roles.score)
                keep = np.isfinite(y) & np.isfinite(s)
                labels.append(y[keep])
                scores.append(s[keep])
                kept += int(keep.sum())
            yield batch

    import pyarrow as pa

    try:
        profile = arrays.profile_of(counted(), specs)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read the reference's data: {exc}") from exc
    performance: dict[str, float] = {}
    if labels:
        performance = evaluate.realised(np.concatenate(labels), np.concatenate(scores), threshold)
    return profile, rows, performance, rows_sample


def create_monitor(ctx: Context, project_key: str, data_in: MonitorCreate) -> Monitor:
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    exists = ctx.session.scalar(
        select(MonitorRow.id).where(
            MonitorRow.project_id == project.id, MonitorRow.name == data_in.name
        )
    )
    if exists is not None:
        raise AlreadyExists(f"{project.key} already has a monitor {data_in.name!r}")
    model_version_id, model_metrics = None, {}
    if data_in.model is not None:
        model = registry.get_model(ctx, data_in.model)
        if model.project_key != project.key:
            raise InvalidInput(f"model {model.name!r} belongs to project {model.project_key}")
        number = data_in.model_version or model.production_version
        if number is None:
            raise InvalidInput(f"model {model.name!r} has no version in production; name one")
        mv = registry.get_version(ctx, model.name, number)
        model_version_id, model_metrics = mv.id, dict(mv.metrics)
    version, path = _reference(ctx, project.key, data_in.reference_version_id)
    roles = Roles(**data_in.roles.model_dump())
    specs = _columns(version, roles, data_in.features, data_in.overrides)
    features = [s for s in specs if s.name not in (roles.prediction, roles.score)]
    profile, rows, performance, reference_rows = _profile_reference(
        path, version.format, specs, features, roles, data_in.score_threshold
    )
    checks = _checks(data_in.checks, performance, model_metrics, data_in.drift_share)
    now = ctx.clock.now()
    row = MonitorRow(
        id=new_id("mon"),
        project_id=project.id,
        name=data_in.name,
        description=data_in.description,
        model_version_id=model_version_id,
        reference_version_id=version.id,
        columns=_COLUMNS.dump_python(specs, mode="json"),
        checks=_CHECKS.dump_python(checks, mode="json"),
        roles=data_in.roles.model_dump(),
        window=data_in.window.value,
        min_rows=data_in.min_rows,
        drift_share=data_in.drift_share,
        score_threshold=data_in.score_threshold,
        reference_profile=sketch.profile_to_dict(profile),
        reference_rows=rows,
        reference_performance=performance,
        reference_sample=sample.sample_to_dict(reference_rows),
        active=True,
        created_by=ctx.actor.user_id,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return to_monitor(ctx, row, project.key)


def update_monitor(ctx: Context, project_key: str, name: str, change: MonitorUpdate) -> Monitor:
    """Change overrides, checks, the window, min_rows or whether the monitor is active.
    Results already computed stay as they were; later windows use the new settings."""
    row = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    monitor = to_monitor(ctx, row)
    if change.description is not None:
        row.description = change.description
    if change.overrides is not None:
        specs = [*monitor.columns, *monitor.predictions]
        by_name = {o.column: o for o in change.overrides}
        unknown = set(by_name) - {s.name for s in specs}
        if unknown:
            raise InvalidInput(f"an override names a column not monitored: {sorted(unknown)[0]!r}")
        row.columns = _COLUMNS.dump_python(
            [_spec(s.name, s.kind, s.dtype, by_name.get(s.name)) for s in specs], mode="json"
        )
    if change.checks is not None:
        model_metrics = {}
        if row.model_version_id:
            model_metrics = dict(registry.version_by_id(ctx, row.model_version_id).metrics)
        row.checks = _CHECKS.dump_python(
            _checks(change.checks, dict(row.reference_performance), model_metrics, row.drift_share),
            mode="json",
        )
    if change.window is not None and change.window.value != row.window:
        has_data = ctx.session.scalar(
            select(func.count())
            .select_from(MonitorBatchRow)
            .where(MonitorBatchRow.monitor_id == row.id)
        )
        if has_data:
            raise InvalidInput(
                "the window cannot change once batches are logged: create a new monitor"
            )
        row.window = change.window.value
    if change.min_rows is not None:
        row.min_rows = change.min_rows
    if change.active is not None:
        row.active = change.active
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return to_monitor(ctx, row, monitor.project_key)


# --- results and alerts -----------------------------------------------------------------


def _column_results(rows: Sequence[ColumnResultRow]) -> list[ColumnResult]:
    return [
        ColumnResult(
            column=r.column,
            kind=ColumnKind(r.kind),
            test=drift.DriftTest(r.test),
            statistic=r.statistic,
            p_value=r.p_value,
            threshold=r.threshold,
            drifted=r.drifted,
        )
        for r in rows
    ]


def to_results(ctx: Context, rows: Sequence[ResultRow]) -> list[Result]:
    by_result: dict[str, list[ColumnResultRow]] = {r.id: [] for r in rows}
    outcomes: dict[str, list[CheckOutcome]] = {r.id: [] for r in rows}
    if rows:
        for c in ctx.session.scalars(
            select(ColumnResultRow)
            .where(ColumnResultRow.result_id.in_(list(by_result)))
            .order_by(ColumnResultRow.column)
        ):
            by_result[c.result_id].append(c)
        for k in ctx.session.scalars(
            select(CheckResultRow).where(CheckResultRow.result_id.in_(list(by_result)))
        ):
            outcomes[k.result_id].append(
                CheckOutcome(
                    CheckKind(k.check),
                    Status(k.status),
                    k.value,
                    k.threshold,
                    Severity(k.severity),
                    k.detail,
                )
            )
    order = {kind: i for i, kind in enumerate(CheckKind)}
    out = []
    for r in rows:
        cols = by_result[r.id]
        out.append(
            Result(
                id=r.id,
                monitor_id=r.monitor_id,
                scope=Scope(r.scope),
                batch_id=r.batch_id,
                window_start=r.window_start,
                window_end=r.window_end,
                generation=r.generation,
                rows=r.rows,
                drifted_columns=r.drifted_columns,
                drift_share=r.drift_share,
                data_drift=r.data_drift,
                columns=tuple(_column_results([c for c in cols if not c.is_prediction])),
                prediction=tuple(_column_results([c for c in cols if c.is_prediction])),
                realised={k: float(v) for k, v in r.realised.items()},
                labelled=r.labelled,
                estimated={k: float(v) for k, v in r.estimated.items()},
                operations=_OPS.validate_python(r.operations),
                checks=tuple(sorted(outcomes[r.id], key=lambda o: order[o.kind])),
                computed_at=r.computed_at,
                worker=r.worker,
            )
        )
    return out


def results(
    ctx: Context,
    project_key: str,
    name: str,
    *,
    scope: Scope = Scope.WINDOW,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[Result]:
    """Window results (the latest generation of each window) or batch results, oldest
    first: the time series a chart draws, thresholds included."""
    row = monitor_row(ctx, project_key, name, Role.VIEWER)
    query = select(ResultRow).where(ResultRow.monitor_id == row.id, ResultRow.scope == scope.value)
    if scope is Scope.WINDOW:
        latest = (
            select(ResultRow.window_start, func.max(ResultRow.generation).label("g"))
            .where(ResultRow.monitor_id == row.id, ResultRow.scope == Scope.WINDOW.value)
            .group_by(ResultRow.window_start)
            .subquery()
        )
        query = query.join(
            latest,
            (latest.c.window_start == ResultRow.window_start)
            & (latest.c.g == ResultRow.generation),
        )
        if since is not None:
            query = query.where(ResultRow.window_start >= since)
        if until is not None:
            query = query.where(ResultRow.window_start < until)
        query = query.order_by(ResultRow.window_start.desc())
    else:
        if since is not None:
            query = query.where(ResultRow.computed_at >= since)
        if until is not None:
            query = query.where(ResultRow.computed_at < until)
        query = query.order_by(ResultRow.computed_at.desc(), ResultRow.id)
    found = list(ctx.session.scalars(query.limit(limit)))
    return to_results(ctx, found[::-1])


def to_batch(row: MonitorBatchRow, created: bool = True) -> Batch:
    return Batch(
        id=row.id,
        monitor_id=row.monitor_id,
        rows=row.rows,
        predictions=row.predictions,
        duplicates=row.duplicates,
        windows=row.windows,
        first_at=row.first_at,
        last_at=row.last_at,
        source=row.source,
        content_hash=row.content_hash,
        received_at=row.received_at,
        created=created,
    )


def list_batches(ctx: Context, project_key: str, name: str, *, limit: int = 100) -> list[Batch]:
    row = monitor_row(ctx, project_key, name, Role.VIEWER)
    rows = ctx.session.scalars(
        select(MonitorBatchRow)
        .where(MonitorBatchRow.monitor_id == row.id)
        .order_by(MonitorBatchRow.received_at.desc(), MonitorBatchRow.id)
        .limit(limit)
    )
    return [to_batch(r) for r in rows]


def to_alerts(ctx: Context, rows: Sequence[AlertRow]) -> list[Alert]:
    monitors = {
        m.id: m
        for m in ctx.session.scalars(
            select(MonitorRow).where(MonitorRow.id.in_({r.monitor_id for r in rows}))
        )
    }
    keys = projects.project_keys(ctx, {m.project_id for m in monitors.values()})
    item_keys = items.item_keys(ctx, {r.item_id for r in rows if r.item_id})
    return [
        Alert(
            id=r.id,
            monitor_id=r.monitor_id,
            monitor=monitors[r.monitor_id].name,
            project_key=keys[monitors[r.monitor_id].project_id],
            check=CheckKind(r.check),
            severity=Severity(r.severity),
            state=AlertState(r.state),
            opened_at=r.opened_at,
            resolved_at=r.resolved_at,
            first_window=r.first_window,
            last_window=r.last_window,
            value=r.value,
            threshold=r.threshold,
            windows_breached=r.windows_breached,
            item_key=item_keys.get(r.item_id or ""),
            model_version_id=r.model_version_id,
            evidence={
                k: v
                for k, v in (
                    ("opened_result", r.opened_result_id),
                    ("last_result", r.last_result_id),
                    ("resolved_result", r.resolved_result_id),
                    ("detail", r.detail),
                )
                if v
            },
        )
        for r in rows
    ]


def list_alerts(
    ctx: Context, project_key: str, *, monitor: str | None = None, state: AlertState | None = None
) -> list[Alert]:
    project = projects.resolve_project(ctx, project_key)
    query = (
        select(AlertRow)
        .join(MonitorRow, MonitorRow.id == AlertRow.monitor_id)
        .where(MonitorRow.project_id == project.id)
    )
    if monitor is not None:
        query = query.where(
            AlertRow.monitor_id == monitor_row(ctx, project.key, monitor, Role.VIEWER).id
        )
    if state is not None:
        query = query.where(AlertRow.state == state.value)
    return to_alerts(
        ctx, list(ctx.session.scalars(query.order_by(AlertRow.opened_at.desc(), AlertRow.id)))
    )


def retraining_of_runs(
    ctx: Context, project_key: str, run_ids: Sequence[str]
) -> tuple[list[ModelVersion], list[Alert]]:
    """The model versions built from these runs, and the alerts of their monitors that
    filed a retraining item (newest first): what a hypothesis's evidence led to in
    production."""
    versions = registry.versions_of_runs(ctx, run_ids)
    ids = {v.id for v in versions}
    if not ids:
        return versions, []
    alerts = [a for a in list_alerts(ctx, project_key) if a.model_version_id in ids and a.item_key]
    return versions, alerts
