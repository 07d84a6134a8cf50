"""Fixtures of the monitoring tests: an app's state to call services with, a project with
a reference dataset version (numeric and categorical features, scores, labels), and
production-like frames that drift or not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI

from loopwise.core.context import Context
from loopwise.data import service as data
from loopwise.monitoring import service
from loopwise.monitoring.models import Monitor
from loopwise.monitoring.schemas import MonitorCreate
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.web.state import AppState

KEY = "MON"
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday; the FrozenClock starts at 09:00


def frame(
    rows: int,
    *,
    seed: int,
    shift: float = 0.0,
    start: datetime = START,
    every: timedelta = timedelta(seconds=10),
    ids: str | None = "p",
    labels: bool = True,
) -> pd.DataFrame:
    """Feature rows and predictions; ``shift`` moves the numeric features and the scores
    (drift), keeping the labels' relation to the features."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0 + shift, 1, rows)
    x2 = rng.normal(5 + shift, 2, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    logit = 1.5 * (x1 - shift) + 0.4 * (x2 - 5 - shift)
    p = 1 / (1 + np.exp(-logit))
    label = (rng.random(rows) < p).astype(float)
    score = 1 / (1 + np.exp(-(1.5 * x1 + 0.4 * (x2 - 5))))
    out = pd.DataFrame({"x1": x1, "x2": x2, "plan": plan, "score": score})
    out["prediction"] = (score >= 0.5).astype(int)
    if labels:
        out["label"] = label
    if ids:
        out.insert(0, "prediction_id", [f"{ids}{i}" for i in range(rows)])
    out["timestamp"] = [(start + i * every).isoformat().replace("+00:00", "Z") for i in range(rows)]
    out["latency_ms"] = rng.gamma(2.0, 20.0, rows)
    return out


@pytest.fixture
def state(app: FastAPI) -> AppState:
    loopwise_state: AppState = app.state.loopwise
    return loopwise_state


@pytest.fixture
def write(state: AppState):  # noqa: ANN201 (a context-manager factory)
    @contextmanager
    def open_context() -> Iterator[Context]:
        with state.context(state.ensure_local_actor(), write=True) as ctx:
            yield ctx

    return open_context


@pytest.fixture
def reference_id(write, tmp_path: Path) -> str:  # noqa: ANN001
    ref = frame(2000, seed=1).drop(columns=["prediction_id", "timestamp", "latency_ms"])
    path = tmp_path / "reference.parquet"
    ref.to_parquet(path, index=False)
    with write() as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="Monitoring"))
        return data.register_path(ctx, KEY, "reference", path).version.id


@pytest.fixture
def monitor(write, reference_id: str) -> Monitor:  # noqa: ANN001
    with write() as ctx:
        return service.create_monitor(
            ctx,
            KEY,
            MonitorCreate(name="churn", reference_version_id=reference_id, window="hour"),
        )


def write_batch(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path
