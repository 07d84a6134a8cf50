"""Long series: columnar logging and reading, paging, and SQL-side chart downsampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from starlette.testclient import TestClient

from loopwise import Client


@pytest.fixture
def run_id(client: Client) -> str:
    client.create_project("SER", "Series")
    return client.create_run("SER").id


def test_columns_round_trip_with_non_finite_values(client: Client, run_id: str) -> None:
    values = [0.5, float("nan"), float("inf"), -1.0, float("-inf")]
    assert client.log_metric_columns(run_id, "x", range(5), values, [10, 11, 12, 13, 14]) == 5
    cols = client.metric_columns(run_id, "x")
    assert cols["steps"] == [0, 1, 2, 3, 4] and cols["timestamps"] == [10, 11, 12, 13, 14]
    got = cols["values"]
    assert got[0] == 0.5 and math.isnan(got[1]) and got[2] == math.inf and got[4] == -math.inf
    assert client.get_run(run_id).metrics["x"].value == -math.inf  # the latest point


def test_columns_page_and_match_history(api: TestClient, client: Client, run_id: str) -> None:
    n = 2500
    client.log_metric_columns(run_id, "y", np.arange(n), np.arange(n) * 0.5)
    first = api.get(
        f"/api/v1/runs/{run_id}/metric-columns", params={"key": "y", "limit": 1000}
    ).json()
    assert len(first["steps"]) == 1000 and first["next_offset"] == 1000
    last = api.get(
        f"/api/v1/runs/{run_id}/metric-columns", params={"key": "y", "offset": 2000, "limit": 1000}
    ).json()
    assert last["steps"][-1] == n - 1 and last["next_offset"] is None
    history = client.metric_history(run_id, "y")
    assert [p.step for p in history] == list(range(n))


@pytest.mark.parametrize(
    "body",
    [
        {"key": "z", "steps": [1, 2], "values": [1.0]},  # lengths differ
        {"key": "z", "steps": [1], "values": ["abc"]},
        {"key": "z", "steps": [1], "values": [True]},
        {"key": "z", "steps": [1.5], "values": [1.0]},
        {"key": "bad\\key", "steps": [1], "values": [1.0]},
    ],
)
def test_bad_columns_are_400_and_store_nothing(api: TestClient, run_id: str, body: dict) -> None:
    r = api.post(f"/api/v1/runs/{run_id}/metric-columns", json=body)
    assert r.status_code == 400, r.text
    assert api.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {}


def test_chart_keeps_extremes_of_a_long_series(
    client: Client, api: TestClient, run_id: str
) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=50_000)
    values[12_345] = 40.0  # a spike the chart must keep
    values[40_000] = -35.0
    client.log_metric_columns(run_id, "loss", np.arange(50_000), values)
    client.log_metric_columns(run_id, "loss", [50_000], [float("nan")])
    chart = api.get(
        f"/api/v1/runs/{run_id}/metric-chart", params={"key": "loss", "points": 500}
    ).json()
    assert chart["total"] == 50_001 and chart["nan_count"] == 1 and not chart["exact"]
    buckets = chart["buckets"]
    assert len(buckets) <= 500
    assert sum(b["count"] for b in buckets) == 50_000
    assert max(b["max"] for b in buckets) == values.max() == 40.0
    assert min(b["min"] for b in buckets) == values.min() == -35.0
    # every bucket agrees with NumPy over the same step range
    for b in buckets[::37]:
        chunk = values[b["step_min"] : b["step_max"] + 1]
        assert b["min"] == chunk.min() and b["max"] == chunk.max() and b["count"] == len(chunk)


def test_short_series_chart_is_exact(client: Client, api: TestClient, run_id: str) -> None:
    client.log_metric_columns(run_id, "acc", [0, 5, 9], [0.1, 0.5, 0.9])
    chart = api.get(f"/api/v1/runs/{run_id}/metric-chart", params={"key": "acc"}).json()
    assert chart["exact"] and [(b["step_min"], b["min"]) for b in chart["buckets"]] == [
        (0, 0.1),
        (5, 0.5),
        (9, 0.9),
    ]


@pytest.mark.parametrize(
    "filter_string", ["attributes.start_time > 1e20", "attributes.end_time < -1e20"]
)
def test_absurd_times_in_filters_are_400(api: TestClient, run_id: str, filter_string: str) -> None:
    r = api.post(
        "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["1"], "filter": filter_string}
    )
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
