"""Production data in: batches read in chunks into per-window profiles and per-prediction
rows, the same content not stored twice, profile-only batches, late labels, bad input."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from monitoring_support import KEY, START, frame, write_batch
from sqlalchemy import func, select

from loopwise.core.errors import InvalidInput
from loopwise.monitoring import arrays, ingest, service
from loopwise.monitoring.models import Monitor, Scope
from loopwise.monitoring.schemas import LabelIn, LabelsIn, ProfileBatchIn
from loopwise.monitoring.tables import BatchProfileRow, PredictionRow, WindowRow
from loopwise.numeric import sketch
from loopwise.numeric.drift import ColumnKind


def test_a_batch_is_read_in_chunks_and_split_by_window(
    write,
    monitor: Monitor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setattr(ingest, "CSV_BLOCK", 16_384)  # about 100 rows a chunk
    df = frame(1000, seed=2)  # 10 s apart: 360 rows an hour, 3 windows
    path = write_batch(df, tmp_path / "batch.csv")
    with write() as ctx:
        batch = ingest.log_batch(ctx, KEY, "churn", path)
        assert batch.created and batch.rows == 1000 and batch.predictions == 1000
        assert batch.windows == 3 and batch.duplicates == 0
        assert batch.first_at == START and batch.last_at == START + timedelta(hours=3)
        parts = ctx.session.execute(
            select(BatchProfileRow.window_start, BatchProfileRow.rows).order_by(
                BatchProfileRow.window_start
            )
        ).all()
        assert [r for _, r in parts] == [360, 360, 280]
        merged = sketch.profile_from_dict(
            ctx.session.scalars(select(BatchProfileRow.profile)).first()  # type: ignore[arg-type]
        )
        assert merged.columns["plan"].kind is ColumnKind.CATEGORICAL
        stored = ctx.session.scalars(
            select(PredictionRow).where(PredictionRow.prediction_id == "p5")
        ).one()
        assert stored.score == pytest.approx(df.score[5]) and stored.label == df.label[5]
        assert stored.latency_ms == pytest.approx(df.latency_ms[5])
        assert stored.at == START + timedelta(seconds=50) and stored.window_start == START
        windows = ctx.session.scalars(select(WindowRow.generation)).all()
        assert sorted(windows) == [1, 1, 1]
        again = ingest.log_batch(ctx, KEY, "churn", path)
        assert not again.created and again.id == batch.id
        (result,) = service.results(ctx, KEY, "churn", scope=Scope.BATCH)
        assert result.batch_id == batch.id and result.rows == 1000
        assert {c.column for c in result.columns} == {"x1", "x2", "plan"}
        assert not result.data_drift


def test_repeated_prediction_ids_are_skipped_and_counted(
    write,
    monitor: Monitor,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    with write() as ctx:
        ingest.log_batch(ctx, KEY, "churn", write_batch(frame(100, seed=2), tmp_path / "a.parquet"))
        second = frame(150, seed=3)  # ids p0..p149: 100 known already
        batch = ingest.log_batch(ctx, KEY, "churn", write_batch(second, tmp_path / "b.parquet"))
        assert (batch.rows, batch.predictions, batch.duplicates) == (150, 50, 100)
        total = ctx.session.scalar(select(func.count()).select_from(PredictionRow))
        assert total == 150


def test_profile_only_batches_carry_drift_without_rows(write, monitor: Monitor) -> None:  # noqa: ANN001
    table = pa.Table.from_pandas(frame(500, seed=4))
    specs = [*monitor.columns, *monitor.predictions]
    profile = sketch.profile_to_dict(arrays.profile_of(table.to_batches(), specs))
    with write() as ctx:
        batch = ingest.log_profile(
            ctx, KEY, "churn", ProfileBatchIn(profile=profile, at=START + timedelta(minutes=5))
        )
        assert (batch.rows, batch.predictions, batch.windows) == (500, 0, 1)
        assert batch.first_at == START and batch.source == "profile"
        with pytest.raises(InvalidInput, match="profile"):
            ingest.log_profile(ctx, KEY, "churn", ProfileBatchIn(profile={"rows": "many"}))


def test_labels_join_by_prediction_id_and_touch_their_windows(
    write,
    monitor: Monitor,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    df = frame(400, seed=5, labels=False)  # two windows
    with write() as ctx:
        ingest.log_batch(ctx, KEY, "churn", write_batch(df, tmp_path / "b.csv"))
        done = ingest.log_labels(
            ctx,
            KEY,
            "churn",
            LabelsIn(
                labels=[
                    LabelIn(prediction_id="p1", label=1),
                    LabelIn(prediction_id="p399", label=0),
                    LabelIn(prediction_id="nope", label=1),
                ]
            ),
        )
        assert (done.received, done.matched, done.unmatched, done.windows) == (3, 2, 1, 2)
        assert sorted(ctx.session.scalars(select(WindowRow.generation))) == [2, 2]
        labelled = frame(400, seed=5)[["prediction_id", "label"]]
        path = write_batch(labelled, tmp_path / "labels.parquet")
        from_file = ingest.log_labels_file(ctx, KEY, "churn", path)
        assert (from_file.received, from_file.matched) == (400, 400)
        stored = ctx.session.scalars(select(PredictionRow.label).order_by(PredictionRow.id)).all()
        assert np.array_equal(np.array(stored), labelled.label.to_numpy())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.assign(timestamp="yesterday"), "not ISO 8601"),
        (lambda df: df.assign(timestamp="2027-01-01T00:00:00Z"), "ahead of the server's clock"),
        (lambda df: df.assign(prediction_id="x" * 201), "longer than 200"),
        (lambda df: df[["timestamp"]].assign(other=1), "none of the monitor's columns"),
        (lambda df: df.head(0), "no rows"),
        (lambda df: df.assign(x1="high"), "cannot read the batch"),
    ],
)
def test_bad_batches_are_refused_whole(
    write,
    monitor: Monitor,
    tmp_path: Path,
    change,
    message: str,  # noqa: ANN001
) -> None:
    path = write_batch(change(frame(50, seed=6)), tmp_path / "bad.csv")
    with pytest.raises(InvalidInput, match=message), write() as ctx:
        ingest.log_batch(ctx, KEY, "churn", path)
    with write() as ctx:
        assert service.list_batches(ctx, KEY, "churn") == []
