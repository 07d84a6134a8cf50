"""Window checks and the loop they close: drift opens one alert per monitor and check and
files one retraining item; recovery resolves it; labels bring realised performance next
to the CBPE estimate; events are published for webhooks to come."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from monitoring_support import KEY, START, frame, write_batch

from loopwise.monitoring import ingest, jobs, service
from loopwise.monitoring.models import (
    AlertOpened,
    AlertResolved,
    AlertState,
    CheckKind,
    Monitor,
    Status,
)
from loopwise.monitoring.schemas import MonitorCreate
from loopwise.planning.cycles import service as cycles
from loopwise.planning.items import service as items
from loopwise.planning.items.models import ItemKind
from loopwise.web.state import AppState

HOUR = timedelta(hours=1)


def _log(write, tmp_path: Path, name: str, **shape: object) -> None:  # noqa: ANN001
    with write() as ctx:
        ingest.log_batch(ctx, KEY, "churn", write_batch(frame(**shape), tmp_path / name))  # type: ignore[arg-type]


def test_drift_opens_one_alert_and_one_item_and_recovery_resolves(
    state: AppState,
    write,
    monitor: Monitor,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    events: list[object] = []
    state.bus.subscribe(AlertOpened, lambda _ctx, e: events.append(e))
    state.bus.subscribe(AlertResolved, lambda _ctx, e: events.append(e))
    # 360 rows an hour (10 s apart): one normal hour, two drifted hours
    _log(write, tmp_path, "w0.csv", rows=360, seed=10, ids="a")
    _log(write, tmp_path, "w1.csv", rows=720, seed=11, ids="b", shift=2.0, start=START + HOUR)
    checked = jobs.run_pending(state)
    assert sorted(c.window_start for c in checked) == [START, START + HOUR, START + 2 * HOUR]
    with write() as ctx:
        first, second, third = service.results(ctx, KEY, "churn")
        assert not first.data_drift and second.data_drift and third.data_drift
        assert second.drifted_columns == 2  # x1 and x2 shifted, plan did not
        assert second.drift_share == pytest.approx(2 / 3)
        shifted = {c.column: c for c in second.columns}
        assert shifted["x1"].drifted and not shifted["plan"].drifted
        assert any(p.drifted for p in second.prediction)
        assert second.estimated and second.realised  # scores and labels in the batch
        assert second.operations.predictions == 360 and second.operations.latency_p95_ms
        opened = service.list_alerts(ctx, KEY, state=AlertState.OPEN)
        kinds = {a.check for a in opened}
        assert CheckKind.DATA_DRIFT in kinds and CheckKind.PREDICTION_DRIFT in kinds
        drift_alert = next(a for a in opened if a.check is CheckKind.DATA_DRIFT)
        assert drift_alert.first_window == START + HOUR
        assert drift_alert.last_window == START + 2 * HOUR and drift_alert.windows_breached == 2
        assert {a.item_key for a in opened} == {drift_alert.item_key}  # one item for all
        (item,) = items.list_items(ctx, KEY, kind=ItemKind.RETRAINING)
        assert item.key == drift_alert.item_key and "monitoring" in item.labels
        history = items.item_history(ctx, item.key)
        assert sum(e.kind == "evidence" for e in history) == len(opened)
    assert [type(e) for e in events] == [AlertOpened] * len(opened)

    # the world moves back: the next window passes and the drift alerts resolve
    _log(write, tmp_path, "w3.csv", rows=360, seed=12, ids="c", start=START + 3 * HOUR)
    jobs.run_pending(state)
    with write() as ctx:
        resolved = service.list_alerts(ctx, KEY, state=AlertState.RESOLVED)
        assert CheckKind.DATA_DRIFT in {a.check for a in resolved}
        assert not any(
            a.check is CheckKind.DATA_DRIFT
            for a in service.list_alerts(ctx, KEY, state=AlertState.OPEN)
        )
        # a new breach reuses the unfinished retraining item
        assert len(items.list_items(ctx, KEY, kind=ItemKind.RETRAINING)) == 1
        # the cycle report (an hour later) counts the retraining filed while it ran
        state.clock.advance(HOUR)  # type: ignore[attr-defined]
        cycle = cycles.create_cycle(ctx, KEY, starts_on=START.date(), days=14)
        assert cycles.report(ctx, KEY, cycle.number).retraining == (item.key,)
    assert any(isinstance(e, AlertResolved) and e.check is CheckKind.DATA_DRIFT for e in events)
    assert jobs.run_pending(state) == []  # nothing changed: nothing is checked again


def test_late_labels_bring_realised_performance_beside_the_estimate(
    state: AppState,
    write,
    reference_id: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    with write() as ctx:
        service.create_monitor(
            ctx, KEY, MonitorCreate(name="churn", reference_version_id=reference_id, window="day")
        )
    df = frame(300, seed=20, labels=False)
    _log(write, tmp_path, "b.csv", rows=300, seed=20, labels=False)
    jobs.run_pending(state)
    with write() as ctx:
        (before,) = service.results(ctx, KEY, "churn")
        assert before.estimated["roc_auc"] > 0.5 and before.realised == {} and before.labelled == 0
        perf = next(c for c in before.checks if c.kind is CheckKind.PERFORMANCE)
        assert perf.status is Status.UNKNOWN
        labels = frame(300, seed=20)[["prediction_id", "label"]]
        ingest.log_labels_file(ctx, KEY, "churn", write_batch(labels, tmp_path / "l.csv"))
    assert len(df) == 300
    (job,) = jobs.run_pending(state)
    assert job.generation == 2
    with write() as ctx:
        (after,) = service.results(ctx, KEY, "churn")
        assert after.generation == 2 and after.labelled == 300
        assert set(after.realised) >= {"accuracy", "roc_auc"}
        perf = next(c for c in after.checks if c.kind is CheckKind.PERFORMANCE)
        assert perf.status is Status.OK and perf.value == after.realised["roc_auc"]
