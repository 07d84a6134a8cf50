"""Metric series and the latest-value summary, cross-checked by brute force (the
tracking service called directly).

The server keeps ``latest_metrics`` incrementally (per batch, merged with what is stored).
The tests recompute it from every point ever logged: the point with the highest
(step, timestamp), the one logged last among equals.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopwise.core.clock import FrozenClock, to_millis
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, MetricsIn, RunCreate
from use_cases import UseCases

pytestmark = pytest.mark.store


def same(a: float, b: float) -> bool:
    """Equal, counting NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-1000, 1000).map(float),
)
points = st.fixed_dictionaries(
    {
        "key": st.sampled_from(["loss", "val/auc"]),
        "value": values,
        "step": st.integers(-2, 4),  # few steps: many repeats and out-of-order arrivals
        "timestamp": st.one_of(st.none(), st.integers(0, 3)),
    }
)
batches = st.lists(st.lists(points, min_size=1, max_size=6), min_size=1, max_size=4)


@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=batches)
def test_latest_summary_and_history_match_a_brute_force_replay(
    do: UseCases, project: str, clock: FrozenClock, batches: list[list[dict[str, Any]]]
) -> None:
    run_id = do(tracking.create_run, project, RunCreate()).id
    now_ms = to_millis(clock.now())
    logged: list[dict[str, Any]] = []
    for batch in batches:
        body = MetricsIn(metrics=[MetricIn(**p) for p in batch])
        assert do(tracking.log_metrics, run_id, body.metrics) == len(batch)
        for p in batch:
            ts = p["timestamp"] if p["timestamp"] is not None else now_ms
            logged.append(
                {"key": p["key"], "step": p["step"], "timestamp": ts, "value": p["value"]}
            )

        # Brute force over everything logged so far.
        expected_latest: dict[str, dict[str, Any]] = {}
        for point in logged:  # in logging order: a later point wins a tie
            best = expected_latest.get(point["key"])
            if best is None or (point["step"], point["timestamp"]) >= (
                best["step"],
                best["timestamp"],
            ):
                expected_latest[point["key"]] = point
        latest = do.read(tracking.get_run, run_id).metrics
        assert set(latest) == set(expected_latest)
        for key, p in expected_latest.items():
            got = latest[key]
            assert (got.key, got.step, got.timestamp) == (key, p["step"], p["timestamp"])
            assert same(got.value, p["value"]), (key, got.value, p["value"])

    for key in {p["key"] for p in logged}:
        mine = [p for p in logged if p["key"] == key]
        expected = sorted(mine, key=lambda p: (p["step"], p["timestamp"]))  # stable: log order
        history = do.read(tracking.metric_history, run_id, key)
        assert [(h.key, h.step, h.timestamp) for h in history] == [
            (key, p["step"], p["timestamp"]) for p in expected
        ]
        assert all(same(h.value, p["value"]) for h, p in zip(history, expected, strict=True))


def test_history_is_ordered_by_step_whatever_the_arrival_order(do: UseCases, project: str) -> None:
    run = do(tracking.create_run, project, RunCreate())
    do(
        tracking.log_metrics,
        run.id,
        [
            MetricIn(key="loss", value=0.3, step=3),
            MetricIn(key="loss", value=0.9, step=0),
            MetricIn(key="other", value=5.0, step=1),
        ],
    )
    do(tracking.log_metrics, run.id, [MetricIn(key="loss", value=0.5, step=1, timestamp=10)])
    history = do.read(tracking.metric_history, run.id, "loss")
    assert [(p.step, p.value) for p in history] == [(0, 0.9), (1, 0.5), (3, 0.3)]
    latest = do.read(tracking.get_run, run.id).metrics
    assert (latest["loss"].step, latest["loss"].value) == (3, 0.3)  # not the last to arrive
    assert (latest["other"].step, latest["other"].value) == (1, 5.0)


def test_metric_timestamps_default_to_the_clock(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    run = do(tracking.create_run, project, RunCreate())
    do(tracking.log_metrics, run.id, [MetricIn(key="loss", value=1.0)])
    (point,) = do.read(tracking.metric_history, run.id, "loss")
    assert (point.step, point.timestamp) == (0, to_millis(clock.now()))
    assert point.timestamp == 1_767_603_600_000  # 2026-01-05 09:00 UTC in milliseconds


def test_non_finite_values_are_stored_and_read_back(do: UseCases, project: str) -> None:
    run = do(tracking.create_run, project, RunCreate())
    # (-0.0 is left out: SQLite stores whole REAL values as integers and loses its sign.)
    sent = [math.nan, math.inf, -math.inf, 0.0, 5e-324, 1.7976931348623157e308]
    # As the API receives them: the non-finite ones as the documented strings.
    wire: list[float | str] = ["NaN", "Infinity", "-Infinity", *sent[3:]]
    body = MetricsIn.model_validate(
        {"metrics": [{"key": "x", "value": v, "step": i} for i, v in enumerate(wire)]}
    )
    do(tracking.log_metrics, run.id, body.metrics)
    got = [p.value for p in do.read(tracking.metric_history, run.id, "x")]
    assert math.isnan(got[0])
    assert got[1:] == sent[1:]
    assert do.read(tracking.get_run, run.id).metrics["x"].value == 1.7976931348623157e308
