"""Long series: columnar logging and reading, paging, and SQL-side chart downsampling
(tracking.service and tracking.series called directly)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson
import pytest
from pydantic import ValidationError

from loopwise.core.errors import InvalidInput
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.tracking import series
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import ColumnsIn, RunCreate
from use_cases import UseCases

pytestmark = pytest.mark.store


@pytest.fixture
def run_id(do: UseCases) -> str:
    do(projects.create_project, ProjectCreate(key="SER", name="Series"))
    return do(tracking.create_run, "SER", RunCreate()).id


def log(do: UseCases, run_id: str, body: dict[str, Any]) -> int:
    """What the API does with a metric-columns body: the schema, then the service."""
    cols = ColumnsIn.model_validate(body)
    return do(tracking.log_columns, run_id, cols.key, cols.steps, cols.floats(), cols.timestamps)


def test_columns_round_trip_with_non_finite_values(do: UseCases, run_id: str) -> None:
    values = [0.5, "NaN", "Infinity", -1.0, "-Infinity"]
    body = {
        "key": "x",
        "steps": list(range(5)),
        "values": values,
        "timestamps": [10, 11, 12, 13, 14],
    }
    assert log(do, run_id, body) == 5
    cols = do.read(series.columns, run_id, "x")
    assert cols.steps == [0, 1, 2, 3, 4] and cols.timestamps == [10, 11, 12, 13, 14]
    got = cols.values
    assert got[0] == 0.5 and math.isnan(got[1]) and got[2] == math.inf and got[4] == -math.inf
    assert cols.next_offset is None
    assert do.read(tracking.get_run, run_id).metrics["x"].value == -math.inf  # the latest point
    # As the API writes the page: non-finite values spelled as everywhere else.
    assert orjson.loads(series.columns_json(cols))["values"] == [
        0.5, "NaN", "Infinity", -1.0, "-Infinity",
    ]  # fmt: skip


def test_columns_page_and_match_history(do: UseCases, run_id: str) -> None:
    n = 2500
    steps = np.arange(n)
    do(tracking.log_columns, run_id, "y", steps.tolist(), (steps * 0.5).tolist())
    first = do.read(series.columns, run_id, "y", limit=1000)
    assert len(first.steps) == 1000 and first.next_offset == 1000
    last = do.read(series.columns, run_id, "y", offset=2000, limit=1000)
    assert last.steps[-1] == n - 1 and last.next_offset is None
    assert len(last.steps) == 500 and last.values[-1] == (n - 1) * 0.5
    history = do.read(tracking.metric_history, run_id, "y")
    assert [p.step for p in history] == list(range(n))


@pytest.mark.parametrize(
    "body",
    [
        {"key": "z", "steps": [1], "values": ["abc"]},
        {"key": "z", "steps": [1], "values": [True]},
        {"key": "z", "steps": [1.5], "values": [1.0]},
        {"key": "bad\\key", "steps": [1], "values": [1.0]},
    ],
)
def test_bad_columns_are_refused_by_the_schema(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ColumnsIn.model_validate(body)


@pytest.mark.parametrize(
    "body",
    [
        {"key": "z", "steps": [1, 2], "values": [1.0]},
        {"key": "z", "steps": [1], "values": [1.0, 2.0]},
        {"key": "z", "steps": [1, 2], "values": [1.0, 2.0], "timestamps": [5]},
    ],
)
def test_columns_of_different_lengths_are_refused_and_store_nothing(
    do: UseCases, run_id: str, body: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput, match="must have the same length"):
        log(do, run_id, body)
    assert do.read(tracking.get_run, run_id).metrics == {}


def test_chart_keeps_extremes_of_a_long_series(do: UseCases, run_id: str) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=50_000)
    values[12_345] = 40.0  # a spike the chart must keep
    values[40_000] = -35.0
    do(tracking.log_columns, run_id, "loss", list(range(50_000)), values.tolist())
    do(tracking.log_columns, run_id, "loss", [50_000], [float("nan")])
    chart = do.read(series.chart, run_id, "loss", points=500)
    assert chart.total == 50_001 and chart.nan_count == 1 and not chart.exact
    buckets = chart.buckets
    assert len(buckets) <= 500
    assert sum(b.count for b in buckets) == 50_000
    assert max(b.max for b in buckets) == values.max() == 40.0
    assert min(b.min for b in buckets) == values.min() == -35.0
    # every bucket agrees with NumPy over the same step range
    for b in buckets[::37]:
        chunk = values[b.step_min : b.step_max + 1]
        assert b.min == chunk.min() and b.max == chunk.max() and b.count == len(chunk)


def test_short_series_chart_is_exact(do: UseCases, run_id: str) -> None:
    do(tracking.log_columns, run_id, "acc", [0, 5, 9], [0.1, 0.5, 0.9])
    chart = do.read(series.chart, run_id, "acc")
    assert chart.exact and [(b.step_min, b.min) for b in chart.buckets] == [
        (0, 0.1),
        (5, 0.5),
        (9, 0.9),
    ]
