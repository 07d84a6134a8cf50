"""Production data in: batches of feature rows and predictions, profiles sent by the
SDK, and labels that arrive later.

A batch file (CSV or Parquet) is read in record batches of at most ``CHUNK_ROWS`` rows;
each chunk is split by time window and folded into that window's mergeable profile
(``numeric.sketch``) and uniform row sample (``numeric.sample``, at most
``SAMPLE_ROWS`` rows), and its per-prediction rows are inserted at once, so the server
holds one chunk and one profile and one sample per window touched, whatever the batch's
size. The batch
is one transaction: it is stored whole or not at all. The same content sent again to a
monitor is recognised by its hash and not stored twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from sqlalchemy import Table, func, select, update

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.core.ids import new_id
from loopwise.data import io as data_io
from loopwise.data.models import DataFormat
from loopwise.db import driver
from loopwise.db.insert import insert_missing
from loopwise.monitoring import arrays, checks, evaluate, queue
from loopwise.monitoring.models import Batch, Labelled, Monitor, ReviewSettings
from loopwise.monitoring.schemas import LabelsIn, ProfileBatchIn
from loopwise.monitoring.service import monitor_row, to_batch, to_monitor
from loopwise.monitoring.tables import (
    BatchProfileRow,
    MonitorBatchRow,
    MonitorRow,
    PredictionRow,
    WindowRow,
)
from loopwise.numeric import sample, sketch
from loopwise.numeric.drift import ColumnKind

if TYPE_CHECKING:
    import pyarrow as pa

CHUNK_ROWS = 65_536
CSV_BLOCK = 4 << 20  # bytes of CSV per chunk read
MAX_WINDOWS = 10_000  # windows one batch may touch (a year of hours)
FUTURE = timedelta(days=1)  # timestamps further ahead of the server's clock are refused
LABEL_CHUNK = 1_000
MAX_TEXT = {"prediction_id": 200, "prediction": 200}

_CSV_COLUMN = re.compile(r"CSV column #(\d+)")
_PREDICTION_COLUMNS = (
    "monitor_id",
    "batch_id",
    "prediction_id",
    "at",
    "window_start",
    "prediction",
    "score",
    "label",
    "labelled_at",
    "latency_ms",
    "error",
)


# --- reading an upload ------------------------------------------------------------------


def _csv_types(monitor: Monitor) -> dict[str, Any]:
    import pyarrow as pa

    r = monitor.roles
    types: dict[str, Any] = {
        r.prediction_id: pa.string(),
        r.timestamp: pa.string(),
        r.prediction: pa.string(),
        r.score: pa.float64(),
        r.label: pa.float64(),
        r.latency_ms: pa.float64(),
        r.error: pa.string(),
    }
    for spec in (*monitor.columns, *monitor.predictions):
        if spec.kind is ColumnKind.NUMERIC:
            types[spec.name] = pa.float64()
        else:
            types[spec.name] = pa.bool_() if spec.dtype == "boolean" else pa.string()
    return types


def record_batches(path: Path, fmt: DataFormat, monitor: Monitor) -> Iterator[pa.RecordBatch]:
    """The upload in chunks; a bad value anywhere is an InvalidInput naming it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names: list[str] = []
    try:
        if fmt is DataFormat.CSV:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=CSV_BLOCK),
                convert_options=pacsv.ConvertOptions(
                    column_types=_csv_types(monitor), strings_can_be_null=True
                ),
            )
            names = reader.schema.names
            yield from reader
        elif fmt is DataFormat.PARQUET:
            # pre_buffer (pyarrow's default) caches every column chunk read until the file
            # is closed: the whole file in memory by the end (bench/README.md, monitoring)
            parquet = pq.ParquetFile(path, pre_buffer=False)
            yield from parquet.iter_batches(batch_size=CHUNK_ROWS)
        else:
            raise InvalidInput("send a batch as CSV or Parquet")
    except (pa.ArrowInvalid, OSError) as exc:
        # pyarrow numbers CSV columns from 0; say which column by its name
        if fmt is DataFormat.CSV and not names:
            names = _header(path)
        text = _CSV_COLUMN.sub(
            lambda m: f"column {names[int(m[1])]!r}" if int(m[1]) < len(names) else m[0], str(exc)
        )
        raise InvalidInput(f"cannot read the batch as {fmt.value}: {text}") from exc


def _header(path: Path) -> list[str]:
    import csv

    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            return next(csv.reader(handle), [])
    except (OSError, csv.Error):
        return []


def _moments(batch: pa.RecordBatch, name: str, now: datetime) -> np.ndarray:
    """Each row's time (datetime64[us], naive UTC); rows without one get ``now``."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    default = np.datetime64(now.replace(tzinfo=None), "us")
    if name not in batch.schema.names:
        return np.full(batch.num_rows, default)
    column = batch.column(name)
    if pa.types.is_timestamp(column.type):
        target = pa.timestamp("us", tz="UTC" if column.type.tz else None)
        values = pc.cast(column, target).cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            parsed = pd.to_datetime(
                pd.Series(column.to_numpy(zero_copy_only=False)), utc=True, format="ISO8601"
            )
        except (ValueError, OverflowError) as exc:
            raise InvalidInput(f"{name}: not ISO 8601 times ({exc})") from exc
        values = parsed.dt.tz_convert(None).to_numpy().astype("datetime64[us]")
    else:
        raise InvalidInput(f"{name}: use ISO 8601 text or a timestamp column, not {column.type}")
    out: np.ndarray = np.array(values, dtype="datetime64[us]")  # a writable copy
    out[np.isnat(out)] = default
    return out


def _check_text(values: np.ndarray, name: str, limit: int) -> None:
    present = values[values != None]  # noqa: E711 (element-wise)
    if present.size and max(len(v) for v in present) > limit:
        raise InvalidInput(f"{name}: values longer than {limit} characters")


def _none_for_nan(values: np.ndarray) -> list[Any]:
    out: list[Any] = values.astype(object).tolist()
    return [None if v != v else v for v in out]  # NaN is the one value unequal to itself


def _times(values: np.ndarray, sqlite: bool) -> list[Any]:
    """datetime64[us] as the driver stores them: SQLAlchemy's text form on SQLite."""
    if sqlite:
        out: list[Any] = np.char.replace(
            np.datetime_as_string(values, unit="us"), "T", " "
        ).tolist()
        return out
    return values.astype(object).tolist()  # type: ignore[no-any-return]


def _prediction_rows(
    ctx: Context,
    monitor: Monitor,
    batch_id: str,
    batch: pa.RecordBatch,
    moments: np.ndarray,
    starts: np.ndarray,
) -> list[tuple[Any, ...]]:
    import pyarrow as pa

    r, n = monitor.roles, batch.num_rows
    names = set(batch.schema.names)
    nothing = np.full(n, None, dtype=object)
    nan = np.full(n, np.nan)

    def text(name: str, limit: int) -> np.ndarray:
        if name not in names:
            return nothing
        values = arrays.texts(batch.column(name), name)
        _check_text(values, name, limit)
        return values

    pid = text(r.prediction_id, 200)
    prediction = text(r.prediction, 200)
    score = arrays.floats(batch.column(r.score), r.score) if r.score in names else nan
    label = arrays.floats(batch.column(r.label), r.label) if r.label in names else nan
    latency = (
        arrays.floats(batch.column(r.latency_ms), r.latency_ms) if r.latency_ms in names else nan
    )
    if r.error in names and pa.types.is_boolean(batch.column(r.error).type):
        flags = batch.column(r.error).to_pylist()
        error = np.array(["error" if f else None for f in flags], dtype=object)
    elif r.error in names:
        error = arrays.texts(batch.column(r.error), r.error)
        error = np.array([e[:500] if e else None for e in error], dtype=object)
    else:
        error = nothing
    sqlite = ctx.session.connection().dialect.name == "sqlite"
    now = np.array([ctx.clock.now().replace(tzinfo=None)], dtype="datetime64[us]")
    received = _times(now, sqlite)[0]
    labels = _none_for_nan(label)
    return list(
        zip(
            [monitor.id] * n,
            [batch_id] * n,
            pid.tolist(),
            _times(moments, sqlite),
            _times(starts, sqlite),
            prediction.tolist(),
            _none_for_nan(score),
            labels,
            [None if x is None else received for x in labels],
            _none_for_nan(latency),
            error.tolist(),
            strict=True,
        )
    )


# --- storing ----------------------------------------------------------------------------


def touch_windows(
    ctx: Context, monitor_id: str, starts: Iterable[datetime], length: timedelta
) -> int:
    """Each window gains a generation: its data changed, so it is due to be checked."""
    now = ctx.clock.now()
    count = 0
    for start in sorted(set(starts)):
        insert_missing(
            ctx.session,
            WindowRow,
            {
                "monitor_id": monitor_id,
                "window_start": start,
                "window_end": start + length,
                "generation": 0,
                "checked_generation": 0,
                "attempts": 0,
                "updated_at": now,
            },
        )
        ctx.session.execute(
            update(WindowRow)
            .where(WindowRow.monitor_id == monitor_id, WindowRow.window_start == start)
            .values(generation=WindowRow.generation + 1, updated_at=now)
        )
        count += 1
    return count


def _as_datetime(value: np.datetime64) -> datetime:
    from datetime import UTC

    moment: datetime = value.astype("datetime64[us]").astype(object)
    return moment.replace(tzinfo=UTC)


def _start_batch(
    ctx: Context, row: MonitorRow, digest: str, source: str
) -> tuple[MonitorBatchRow, bool]:
    now = ctx.clock.now()
    batch_id = new_id("mb")
    created = insert_missing(
        ctx.session,
        MonitorBatchRow,
        {
            "id": batch_id,
            "monitor_id": row.id,
            "content_hash": digest,
            "source": source,
            "rows": 0,
            "predictions": 0,
            "duplicates": 0,
            "windows": 0,
            "first_at": now,
            "last_at": now,
            "created_by": ctx.actor.user_id,
            "received_at": now,
        },
    )
    stored = ctx.session.scalar(
        select(MonitorBatchRow).where(
            MonitorBatchRow.monitor_id == row.id, MonitorBatchRow.content_hash == digest
        )
    )
    assert stored is not None
    return stored, created


def _finish_batch(
    ctx: Context,
    row: MonitorRow,
    monitor: Monitor,
    batch: MonitorBatchRow,
    profiles: dict[np.datetime64, sketch.Profile],
    counts: dict[np.datetime64, int],
    sent_predictions: int,
    samples: dict[np.datetime64, sample.RowSample] | None = None,
) -> Batch:
    if not profiles:
        raise InvalidInput("the batch has no rows")
    starts = sorted(profiles)
    for start in starts:
        ctx.session.add(
            BatchProfileRow(
                batch_id=batch.id,
                window_start=_as_datetime(start),
                monitor_id=row.id,
                rows=counts[start],
                profile=sketch.profile_to_dict(profiles[start]),
                sample=sample.sample_to_dict(samples[start]) if samples else None,
            )
        )
    stored = 0
    if sent_predictions:
        stored = (
            ctx.session.scalar(
                select(func.count())
                .select_from(PredictionRow)
                .where(PredictionRow.batch_id == batch.id)
            )
            or 0
        )
    batch.rows = sum(counts.values())
    batch.predictions = stored
    batch.duplicates = sent_predictions - stored
    batch.windows = len(starts)
    batch.first_at = _as_datetime(starts[0])
    batch.last_at = _as_datetime(starts[-1]) + monitor.window.length
    ctx.session.flush()
    touch_windows(ctx, row.id, [_as_datetime(s) for s in starts], monitor.window.length)
    merged = profiles[starts[0]]
    for start in starts[1:]:
        merged = sketch.merge(merged, profiles[start])
    checks.store_batch_result(ctx, row, monitor, batch.id, merged)
    return to_batch(batch)


def log_batch(
    ctx: Context, project_key: str, name: str, path: Path, fmt: DataFormat | None = None
) -> Batch:
    """Log a CSV or Parquet file of feature rows and predictions (see module doc)."""
    row = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    monitor = to_monitor(ctx, row)
    fmt = fmt or data_io.detect_format(path)
    digest, _size = data_io.content_hash(path)
    batch, created = _start_batch(ctx, row, digest, fmt.value)
    if not created:
        return to_batch(batch, created=False)
    specs = [*monitor.columns, *monitor.predictions]
    r = monitor.roles
    prediction_roles = {r.prediction_id, r.prediction, r.score, r.label, r.latency_ms, r.error}
    now = ctx.clock.now()
    latest = np.datetime64((now + FUTURE).replace(tzinfo=None), "us")
    profiles: dict[np.datetime64, sketch.Profile] = {}
    counts: dict[np.datetime64, int] = {}
    samples: dict[np.datetime64, sample.RowSample] = {}
    rng = np.random.default_rng(
        int(digest.rpartition(":")[2][:16], 16)
    )  # same content, same sample
    sent = 0
    review = queue.settings_of(ctx, row.id)
    features = {s.name for s in monitor.columns}
    for chunk in record_batches(path, fmt, monitor):
        if chunk.num_rows == 0:
            continue
        names = set(chunk.schema.names)
        watched = [s for s in specs if s.name in names]
        if not watched and not prediction_roles & names:
            raise InvalidInput(
                "the batch has none of the monitor's columns: "
                + ", ".join(s.name for s in specs[:5])
            )
        moments = _moments(chunk, r.timestamp, now)
        if moments.max() > latest:
            raise InvalidInput(f"{r.timestamp}: times more than a day ahead of the server's clock")
        starts = evaluate.window_starts(moments, monitor.window)
        columns = arrays.columns_of(chunk, watched)
        kinds = {s.name: s.kind for s in watched}
        rows_of = arrays.feature_columns(chunk, monitor.columns)
        unique, inverse = np.unique(starts, return_inverse=True)
        for k, start in enumerate(unique):
            index = slice(None) if len(unique) == 1 else np.flatnonzero(inverse == k)
            part = sketch.profile_columns(arrays.take(columns, index), kinds)
            profiles[start] = sketch.merge(profiles[start], part) if start in profiles else part
            taken = chunk.num_rows if isinstance(index, slice) else len(index)
            counts[start] = counts.get(start, 0) + taken
            drawn = sample.sample_rows(arrays.take(rows_of, index), sample.SAMPLE_ROWS, rng)
            samples[start] = (
                sample.merge(samples[start], drawn, sample.SAMPLE_ROWS, rng)
                if start in samples
                else drawn
            )
        if len(profiles) > MAX_WINDOWS:
            raise InvalidInput(f"the batch spans more than {MAX_WINDOWS} {monitor.window.value}s")
        if prediction_roles & names:
            rows = _prediction_rows(ctx, monitor, batch.id, chunk, moments, starts)
            driver.insert_rows(
                ctx.session,
                PredictionRow.__tablename__,
                _PREDICTION_COLUMNS,
                rows,
                skip_conflicts=True,
            )
            sent += len(rows)
            if review.enabled and r.prediction_id in names:
                _enqueue(ctx, monitor, review, chunk, moments, columns, features)
    return _finish_batch(ctx, row, monitor, batch, profiles, counts, sent, samples)


def _enqueue(
    ctx: Context,
    monitor: Monitor,
    review: ReviewSettings,
    chunk: pa.RecordBatch,
    moments: np.ndarray,
    columns: dict[str, np.ndarray],
    features: set[str],
) -> None:
    """The chunk's predictions chosen for human review (``monitoring.queue``)."""
    r, n = monitor.roles, chunk.num_rows
    names = set(chunk.schema.names)
    nan = np.full(n, np.nan)

    def numbers(name: str) -> np.ndarray:
        return arrays.floats(chunk.column(name), name) if name in names else nan

    queue.enqueue(
        ctx,
        monitor.id,
        review,
        ids=arrays.texts(chunk.column(r.prediction_id), r.prediction_id),
        scores=numbers(r.score),
        predictions=(
            arrays.texts(chunk.column(r.prediction), r.prediction)
            if r.prediction in names
            else np.full(n, None, dtype=object)
        ),
        labels=numbers(r.label),
        moments=moments,
        features={k: v for k, v in columns.items() if k in features},
    )


def log_profile(ctx: Context, project_key: str, name: str, body: ProfileBatchIn) -> Batch:
    """Log a batch summarised where the data live: one profile, one window (its ``at``)."""
    row = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    monitor = to_monitor(ctx, row)
    try:
        profile = sketch.profile_from_dict(body.profile)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"profile: not a profile from numeric.sketch.profile_to_dict ({exc})"
        ) from exc
    known = {c.name: c.kind for c in (*monitor.columns, *monitor.predictions)}
    for column, part in profile.columns.items():
        if column in known and part.kind is not known[column]:
            raise InvalidInput(
                f"profile: {column} is {part.kind.value}, "
                f"the monitor reads it as {known[column].value}"
            )
    if profile.rows <= 0:
        raise InvalidInput("profile: the batch has no rows")
    at = body.at or ctx.clock.now()
    if at > ctx.clock.now() + FUTURE:
        raise InvalidInput("at: more than a day ahead of the server's clock")
    digest = (
        "profile:"
        + hashlib.sha256(
            repr((sorted(body.profile.items(), key=lambda kv: kv[0]), at.isoformat())).encode()
        ).hexdigest()
    )
    batch, created = _start_batch(ctx, row, digest[:80], "profile")
    if not created:
        return to_batch(batch, created=False)
    start = np.datetime64(evaluate.window_start(at, monitor.window).replace(tzinfo=None), "us")
    return _finish_batch(ctx, row, monitor, batch, {start: profile}, {start: profile.rows}, 0)


# --- labels -----------------------------------------------------------------------------


def _apply_labels(
    ctx: Context, monitor_id: str, ids: Sequence[str], labels: Sequence[float]
) -> tuple[int, set[datetime]]:
    table = cast(Table, PredictionRow.__table__)
    now = ctx.clock.now()
    matched, windows = 0, set()
    latest = dict(zip(ids, labels, strict=True))  # a repeated id: the last label wins
    keys = list(latest)
    for at in range(0, len(keys), LABEL_CHUNK):
        part = keys[at : at + LABEL_CHUNK]
        found = ctx.session.execute(
            select(PredictionRow.window_start, func.count())
            .where(PredictionRow.monitor_id == monitor_id, PredictionRow.prediction_id.in_(part))
            .group_by(PredictionRow.window_start)
        ).all()
        if not found:
            continue
        matched += sum(c for _, c in found)
        windows |= {w for w, _ in found}
        ctx.session.execute(
            table.update()
            .where(table.c.monitor_id == monitor_id, table.c.prediction_id == _bind("pid"))
            .values(label=_bind("value"), labelled_at=now),
            [{"pid": pid, "value": latest[pid]} for pid in part],
        )
    return matched, windows


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def log_labels(ctx: Context, project_key: str, name: str, body: LabelsIn) -> Labelled:
    """Join labels to stored predictions by id; their windows are checked again."""
    row = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    ids = [x.prediction_id for x in body.labels]
    matched, windows = _apply_labels(ctx, row.id, ids, [x.label for x in body.labels])
    length = to_monitor(ctx, row).window.length
    touch_windows(ctx, row.id, windows, length)
    return Labelled(len(set(ids)), matched, len(set(ids)) - matched, len(windows))


def log_labels_file(
    ctx: Context, project_key: str, name: str, path: Path, fmt: DataFormat | None = None
) -> Labelled:
    """Labels from a CSV or Parquet file with the prediction id and label columns."""
    row = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    monitor = to_monitor(ctx, row)
    r = monitor.roles
    fmt = fmt or data_io.detect_format(path)
    received = matched = 0
    windows: set[datetime] = set()
    for chunk in record_batches(path, fmt, monitor):
        names = set(chunk.schema.names)
        if r.prediction_id not in names or r.label not in names:
            raise InvalidInput(f"a labels file needs the columns {r.prediction_id} and {r.label}")
        ids = arrays.texts(chunk.column(r.prediction_id), r.prediction_id)
        values = arrays.floats(chunk.column(r.label), r.label)
        keep = (ids != None) & np.isfinite(values)  # noqa: E711
        got, touched = _apply_labels(ctx, row.id, ids[keep].tolist(), values[keep].tolist())
        received += int(keep.sum())
        matched += got
        windows |= touched
    touch_windows(ctx, row.id, windows, monitor.window.length)
    return Labelled(received, matched, received - matched, len(windows))
