"""The pure rules of monitoring.evaluate: windows, checks, and the alert decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from loopwise.monitoring.evaluate import (
    Action,
    decide_alert,
    judge,
    operations,
    window_start,
    window_starts,
)
from loopwise.monitoring.models import (
    CheckKind,
    CheckOutcome,
    CheckSpec,
    Metric,
    Monitor,
    Operations,
    Roles,
    Severity,
    Status,
    Window,
)
from loopwise.numeric.drift import ColumnKind, DriftResult, DriftTest

T0 = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)  # a Wednesday


def test_windows_align_to_utc_hours_days_and_monday_weeks() -> None:
    moment = datetime(2026, 3, 4, 13, 47, 12, tzinfo=UTC)
    assert window_start(moment, Window.HOUR) == datetime(2026, 3, 4, 13, tzinfo=UTC)
    assert window_start(moment, Window.DAY) == datetime(2026, 3, 4, tzinfo=UTC)
    assert window_start(moment, Window.WEEK) == datetime(2026, 3, 2, tzinfo=UTC)  # Monday
    values = np.array(["2026-03-04T13:47:12", "2026-03-08T23:59:59"], dtype="datetime64[us]")
    weeks = window_starts(values, Window.WEEK)
    assert list(weeks.astype(str)) == ["2026-03-02T00:00:00.000000"] * 2
    days = window_starts(values, Window.DAY)
    assert list(days.astype("datetime64[D]").astype(str)) == ["2026-03-04", "2026-03-08"]


@pytest.mark.parametrize(
    ("status", "window", "open_since", "open_last", "newest", "expected"),
    [
        (Status.BREACHED, 2, None, None, None, Action.OPEN),
        (Status.OK, 2, None, None, None, Action.NONE),
        (Status.UNKNOWN, 2, 1, 1, None, Action.NONE),
        (Status.BREACHED, 3, 1, 2, 2, Action.UPDATE),
        (Status.BREACHED, 2, 1, 2, 1, Action.UPDATE),  # the same window judged again
        (Status.OK, 3, 1, 2, 2, Action.RESOLVE),
        (Status.OK, 2, 1, 2, 1, Action.RESOLVE),  # new data in the breached window
        (Status.OK, 1, 1, 2, 2, Action.NONE),  # an older window judged late: no resolve
        (Status.BREACHED, 1, None, None, 3, Action.NONE),  # a late backfill opens nothing
    ],
)
def test_decide_alert(
    status: Status,
    window: int,
    open_since: int | None,
    open_last: int | None,
    newest: int | None,
    expected: Action,
) -> None:
    def at(hours: int | None) -> datetime | None:
        return None if hours is None else T0 + timedelta(hours=hours)

    decided = decide_alert(
        status,
        T0 + timedelta(hours=window),
        open_since=at(open_since),
        open_last=at(open_last),
        newest_judged=at(newest),
    )
    assert decided is expected


def _monitor(*checks: CheckSpec, min_rows: int = 30) -> Monitor:
    return Monitor(
        id="mon_1",
        project_key="P",
        name="m",
        description="",
        model=None,
        model_version=None,
        model_version_id=None,
        reference_version_id="dsv_1",
        columns=(),
        predictions=(),
        checks=checks,
        roles=Roles(),
        window=Window.DAY,
        min_rows=min_rows,
        drift_share=0.5,
        score_threshold=0.5,
        reference_rows=1000,
        reference_performance={},
        active=True,
        created_at=T0,
    )


def _drift(column: str, drifted: bool) -> DriftResult:
    return DriftResult(
        column, ColumnKind.NUMERIC, DriftTest.KS, 0.3, 0.01 if drifted else 0.4, 0.05, drifted
    )


def _judge(monitor: Monitor, rows: int = 100, **given: Any) -> dict[CheckKind, CheckOutcome]:
    args: dict[str, Any] = {
        "rows": rows,
        "features": [],
        "prediction": [],
        "realised_metrics": {},
        "labelled": 0,
        "estimated_metrics": {},
        "scored": 0,
        "ops": Operations(),
    } | given
    return {o.kind: o for o in judge(monitor, **args)}


def test_data_drift_breaches_at_the_share_and_needs_min_rows() -> None:
    m = _monitor(CheckSpec(CheckKind.DATA_DRIFT, 0.5, Severity.WARNING))
    half = [_drift("a", True), _drift("b", False)]
    out = _judge(m, features=half)[CheckKind.DATA_DRIFT]
    assert out.status is Status.BREACHED and out.value == 0.5 and out.threshold == 0.5
    out = _judge(m, features=[_drift("a", True), _drift("b", False), _drift("c", False)])
    assert out[CheckKind.DATA_DRIFT].status is Status.OK
    small = _judge(m, rows=29, features=half)[CheckKind.DATA_DRIFT]
    assert small.status is Status.UNKNOWN and "30" in small.detail


def test_performance_compares_with_the_baseline_minus_the_drop() -> None:
    m = _monitor(
        CheckSpec(CheckKind.PERFORMANCE, 0.05, Severity.CRITICAL, Metric.ROC_AUC, 0.9),
        CheckSpec(CheckKind.ESTIMATED_PERFORMANCE, 0.05, Severity.WARNING, Metric.F1, None),
    )
    fine = _judge(m, realised_metrics={"roc_auc": 0.86}, labelled=50)[CheckKind.PERFORMANCE]
    assert fine.status is Status.OK and fine.threshold == pytest.approx(0.85)
    worse = _judge(m, realised_metrics={"roc_auc": 0.84}, labelled=50)[CheckKind.PERFORMANCE]
    assert worse.status is Status.BREACHED
    few = _judge(m, realised_metrics={"roc_auc": 0.5}, labelled=10)[CheckKind.PERFORMANCE]
    assert few.status is Status.UNKNOWN
    no_baseline = _judge(m, estimated_metrics={"f1": 0.7}, scored=100)
    assert no_baseline[CheckKind.ESTIMATED_PERFORMANCE].status is Status.UNKNOWN


def test_serving_checks_read_error_rate_and_p95_latency() -> None:
    m = _monitor(
        CheckSpec(CheckKind.ERROR_RATE, 0.05, Severity.CRITICAL),
        CheckSpec(CheckKind.LATENCY, 100.0, Severity.WARNING),
    )
    latencies = np.concatenate([np.full(90, 10.0), np.full(10, 500.0)])
    ops = operations(100, 6, latencies, hours=2.0)
    assert ops.per_hour == 50 and ops.error_rate == 0.06
    assert ops.latency_p50_ms == 10.0 and ops.latency_p95_ms == pytest.approx(500.0)
    out = _judge(m, ops=ops)
    assert out[CheckKind.ERROR_RATE].status is Status.BREACHED
    assert out[CheckKind.LATENCY].status is Status.BREACHED
    quiet = _judge(m, ops=operations(100, 0, np.full(100, 10.0), hours=1.0))
    assert {o.status for o in quiet.values()} == {Status.OK}
    nothing = _judge(m, ops=Operations())
    assert {o.status for o in nothing.values()} == {Status.UNKNOWN}
