"""REST endpoints for experiments, runs, metrics and artifacts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from loopwise.core.errors import TooLarge
from loopwise.tracking import artifacts, series, service
from loopwise.tracking.models import ArtifactInfo, Experiment, MetricPoint, Run, RunStatus
from loopwise.tracking.schemas import (
    ColumnsIn,
    ExperimentCreate,
    MetricsIn,
    ParamsIn,
    RunCreate,
    RunFinish,
    TagsIn,
)
from loopwise.web.body import check_declared_size
from loopwise.web.deps import Caller, CallerDep
from loopwise.web.security import download_headers, download_type

router = APIRouter(prefix="/api/v1", tags=["tracking"])


@router.get("/projects/{key}/experiments")
def list_experiments(key: str, caller: CallerDep) -> list[Experiment]:
    with caller.read() as ctx:
        return service.list_experiments(ctx, key)


@router.post("/projects/{key}/experiments", status_code=201)
def create_experiment(key: str, body: ExperimentCreate, caller: CallerDep) -> Experiment:
    with caller.write() as ctx:
        return service.get_or_create_experiment(ctx, key, body.name)


@router.post("/projects/{key}/runs", status_code=201)
def create_run(key: str, body: RunCreate, caller: CallerDep) -> Run:
    """Start a run; ``hypotheses`` links it as evidence in the same transaction."""
    with caller.write() as ctx:
        return service.create_run(ctx, key, body)


@router.get("/projects/{key}/runs")
def list_runs(
    key: str,
    caller: CallerDep,
    experiment: str | None = None,
    status: RunStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[Run]:
    with caller.read() as ctx:
        return service.list_runs(
            ctx, key, experiment=experiment, status=status, limit=limit, offset=offset
        )


@router.get("/runs/{run_id}")
def get_run(run_id: str, caller: CallerDep) -> Run:
    with caller.read() as ctx:
        return service.get_run(ctx, run_id)


@router.post("/runs/{run_id}/params", status_code=204)
def log_params(run_id: str, body: ParamsIn, caller: CallerDep) -> None:
    with caller.write() as ctx:
        service.log_params(ctx, run_id, body.params)


@router.post("/runs/{run_id}/tags", status_code=204)
def set_tags(run_id: str, body: TagsIn, caller: CallerDep) -> None:
    with caller.write() as ctx:
        service.set_tags(ctx, run_id, body.tags)


@router.delete("/runs/{run_id}/tags/{key:path}", status_code=204)
def delete_tag(run_id: str, key: str, caller: CallerDep) -> None:
    with caller.write() as ctx:
        service.delete_tag(ctx, run_id, key)


@router.post("/runs/{run_id}/metrics")
def log_metrics(run_id: str, body: MetricsIn, caller: CallerDep) -> dict[str, int]:
    with caller.write() as ctx:
        return {"count": service.log_metrics(ctx, run_id, body.metrics)}


@router.post("/runs/{run_id}/metric-columns")
def log_columns(run_id: str, body: ColumnsIn, caller: CallerDep) -> dict[str, int]:
    """Log one metric as parallel arrays (steps, values, optional timestamps): the fast
    path for long series."""
    with caller.write() as ctx:
        count = service.log_columns(
            ctx, run_id, body.key, body.steps, body.floats(), body.timestamps
        )
    return {"count": count}


@router.get("/runs/{run_id}/metric-columns", response_model=series.Columns)
def read_columns(
    run_id: str,
    caller: CallerDep,
    key: Annotated[str, Query(min_length=1, max_length=250)],
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1_000_000)] = 1_000_000,
) -> Response:
    """One page of a metric's history as parallel arrays; follow ``next_offset``."""
    with caller.read() as ctx:
        page = series.columns(ctx, run_id, key, offset=offset, limit=limit)
    return Response(series.columns_json(page), media_type="application/json")


@router.get("/runs/{run_id}/metric-chart")
def metric_chart(
    run_id: str,
    caller: CallerDep,
    key: Annotated[str, Query(min_length=1, max_length=250)],
    points: Annotated[int, Query(ge=10, le=10_000)] = 2000,
) -> series.Chart:
    """The series downsampled in the database to at most ``points`` min/max buckets."""
    with caller.read() as ctx:
        return series.chart(ctx, run_id, key, points=points)


@router.get("/runs/{run_id}/metric-history")
def metric_history(
    run_id: str, caller: CallerDep, key: Annotated[str, Query(min_length=1, max_length=250)]
) -> list[MetricPoint]:
    with caller.read() as ctx:
        return service.metric_history(ctx, run_id, key)


@router.post("/runs/{run_id}/finish")
def finish_run(run_id: str, body: RunFinish, caller: CallerDep) -> Run:
    with caller.write() as ctx:
        return service.finish_run(ctx, run_id, body)


@router.get("/runs/{run_id}/artifacts")
def list_artifacts(run_id: str, caller: CallerDep, path: str = "") -> list[ArtifactInfo]:
    with caller.read() as ctx:
        return artifacts.list_artifacts(ctx, run_id, path)


def _check_destination(caller: Caller, run_id: str, path: str) -> None:
    with caller.read() as ctx:
        artifacts.destination(ctx, run_id, path)


def _store(caller: Caller, run_id: str, path: str, tmp: Path) -> ArtifactInfo:
    with caller.read() as ctx:
        return artifacts.save(ctx, run_id, path, tmp)


@router.put("/runs/{run_id}/artifacts/{path:path}", status_code=201)
async def upload_artifact(
    run_id: str, path: str, request: Request, caller: CallerDep
) -> ArtifactInfo:
    """Stream the request body into the run's artifact folder (size-limited). The size
    and the caller's right to write there are checked before any of the body is read."""
    limit = caller.state.settings.max_artifact_bytes
    check_declared_size(request, limit)
    await run_in_threadpool(_check_destination, caller, run_id, path)
    fd, name = tempfile.mkstemp(dir=caller.state.artifact_tmp)
    tmp = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"artifact exceeds the {limit}-byte limit")
                out.write(chunk)
        return await run_in_threadpool(_store, caller, run_id, path, tmp)
    finally:
        tmp.unlink(missing_ok=True)


@router.get("/runs/{run_id}/artifacts/{path:path}")
def download_artifact(run_id: str, path: str, caller: CallerDep) -> FileResponse:
    with caller.read() as ctx:
        target = artifacts.open_path(ctx, run_id, path)
    # Saved, never rendered: an uploaded .html must not run as whoever opens the link.
    return FileResponse(
        target, media_type=download_type(target.name), headers=download_headers(target.name)
    )
