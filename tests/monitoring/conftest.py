"""Fixtures of the monitoring tests: an app's state to call services with, a project with
a reference dataset version (numeric and categorical features, scores, labels) and a
monitor of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from monitoring_support import KEY, frame

from loopwise.core.context import Context
from loopwise.data import service as data
from loopwise.monitoring import service
from loopwise.monitoring.models import Monitor
from loopwise.monitoring.schemas import MonitorCreate
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.web.state import AppState


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
