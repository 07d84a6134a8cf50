"""Metric series and the latest-value summary, cross-checked by brute force.

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
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.core.clock import FrozenClock, to_millis

pytestmark = pytest.mark.store


def wire(value: float) -> float | str:
    """How the API writes a stored value."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def to_json(value: float) -> float | str:
    """How a test sends a value: non-finite ones as the documented strings."""
    return wire(value) if not math.isfinite(value) else value


@pytest.fixture
def project(api: TestClient) -> str:
    assert api.post("/api/v1/projects", json={"key": "CHURN", "name": "Churn"}).status_code == 201
    return "CHURN"


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
    api: TestClient, project: str, clock: FrozenClock, batches: list[list[dict[str, Any]]]
) -> None:
    run_id = api.post(f"/api/v1/projects/{project}/runs", json={}).json()["id"]
    now_ms = to_millis(clock.now())
    logged: list[dict[str, Any]] = []
    for batch in batches:
        body = []
        for p in batch:
            point = {"key": p["key"], "value": to_json(p["value"]), "step": p["step"]}
            if p["timestamp"] is not None:
                point["timestamp"] = p["timestamp"]
            body.append(point)
            ts = p["timestamp"] if p["timestamp"] is not None else now_ms
            logged.append(
                {"key": p["key"], "step": p["step"], "timestamp": ts, "value": p["value"]}
            )
        response = api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": body})
        assert response.json() == {"count": len(batch)}

        # Brute force over everything logged so far.
        expected_latest: dict[str, dict[str, Any]] = {}
        for point in logged:  # in logging order: a later point wins a tie
            best = expected_latest.get(point["key"])
            if best is None or (point["step"], point["timestamp"]) >= (
                best["step"],
                best["timestamp"],
            ):
                expected_latest[point["key"]] = point
        run = api.get(f"/api/v1/runs/{run_id}").json()
        assert run["metrics"] == {
            key: {
                "key": key,
                "value": wire(p["value"]),
                "step": p["step"],
                "timestamp": p["timestamp"],
            }
            for key, p in expected_latest.items()
        }

    for key in {p["key"] for p in logged}:
        mine = [p for p in logged if p["key"] == key]
        expected = sorted(mine, key=lambda p: (p["step"], p["timestamp"]))  # stable: log order
        history = api.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": key}).json()
        assert history == [
            {"key": key, "value": wire(p["value"]), "step": p["step"], "timestamp": p["timestamp"]}
            for p in expected
        ]


def test_history_is_ordered_by_step_whatever_the_arrival_order(
    client: Client, project: str
) -> None:
    run = client.create_run(project)
    client.log_metrics(
        run.id,
        [
            {"key": "loss", "value": 0.3, "step": 3},
            {"key": "loss", "value": 0.9, "step": 0},
            {"key": "other", "value": 5.0, "step": 1},
        ],
    )
    client.log_metrics(run.id, [{"key": "loss", "value": 0.5, "step": 1, "timestamp": 10}])
    history = client.metric_history(run.id, "loss")
    assert [(p.step, p.value) for p in history] == [(0, 0.9), (1, 0.5), (3, 0.3)]
    latest = client.get_run(run.id).metrics
    assert (latest["loss"].step, latest["loss"].value) == (3, 0.3)  # not the last to arrive
    assert (latest["other"].step, latest["other"].value) == (1, 5.0)


def test_metric_timestamps_default_to_the_clock(
    client: Client, project: str, clock: FrozenClock
) -> None:
    run = client.create_run(project)
    client.log_metrics(run.id, [{"key": "loss", "value": 1.0}])
    (point,) = client.metric_history(run.id, "loss")
    assert (point.step, point.timestamp) == (0, to_millis(clock.now()))
    assert point.timestamp == 1_767_603_600_000  # 2026-01-05 09:00 UTC in milliseconds


def test_non_finite_values_through_the_sdk(client: Client, project: str) -> None:
    run = client.create_run(project)
    # (-0.0 is left out: SQLite stores whole REAL values as integers and loses its sign.)
    sent = [math.nan, math.inf, -math.inf, 0.0, 5e-324, 1.7976931348623157e308]
    client.log_metrics(
        run.id, [{"key": "x", "value": to_json(v), "step": i} for i, v in enumerate(sent)]
    )
    got = [p.value for p in client.metric_history(run.id, "x")]
    assert math.isnan(got[0])
    assert got[1:] == sent[1:]
    assert client.get_run(run.id).metrics["x"].value == 1.7976931348623157e308
