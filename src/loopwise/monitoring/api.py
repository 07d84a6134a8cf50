"""REST endpoints for monitors, batches of production data, labels, results and alerts."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from loopwise.accounts.models import Role
from loopwise.core.errors import InvalidInput
from loopwise.core.types import UTCDate
from loopwise.data import io as data_io
from loopwise.data.api import spooled
from loopwise.data.models import DataFormat
from loopwise.monitoring import ingest, jobs, service
from loopwise.monitoring.models import (
    Alert,
    AlertState,
    Batch,
    Labelled,
    Monitor,
    Result,
    Scope,
)
from loopwise.monitoring.schemas import LabelsIn, MonitorCreate, MonitorUpdate, ProfileBatchIn
from loopwise.web.deps import Caller, CallerDep

log = logging.getLogger("loopwise.monitoring")
router = APIRouter(prefix="/api/v1", tags=["monitoring"])
BASE = "/projects/{key}/monitors/{name}"


@router.get("/projects/{key}/monitors")
def list_monitors(key: str, caller: CallerDep) -> list[Monitor]:
    with caller.read() as ctx:
        return service.list_monitors(ctx, key)


@router.post("/projects/{key}/monitors", status_code=201)
def create_monitor(key: str, body: MonitorCreate, caller: CallerDep) -> Monitor:
    """Create a monitor: the reference version is read once into a profile."""
    with caller.write() as ctx:
        return service.create_monitor(ctx, key, body)


@router.get(BASE)
def get_monitor(key: str, name: str, caller: CallerDep) -> Monitor:
    with caller.read() as ctx:
        return service.get_monitor(ctx, key, name)


@router.patch(BASE)
def update_monitor(key: str, name: str, body: MonitorUpdate, caller: CallerDep) -> Monitor:
    with caller.write() as ctx:
        return service.update_monitor(ctx, key, name, body)


def check_after_ingest(caller: Caller, monitor_id: str) -> None:
    """Run the monitor's due checks now (settings.monitor_check_on_ingest). The upload has
    committed: a failure here is logged and left to the schedule or a worker."""
    if not caller.state.settings.monitor_check_on_ingest:
        return
    try:
        jobs.run_pending(caller.state, monitor_id=monitor_id)
    except Exception:
        log.exception("checks after an upload to monitor %s failed", monitor_id)


def _may_log(caller: Caller, key: str, name: str) -> None:
    with caller.read() as ctx:
        service.monitor_row(ctx, key, name, Role.CONTRIBUTOR)


def _log_file(caller: Caller, key: str, name: str, tmp: Path, fmt: DataFormat) -> Batch:
    with caller.write() as ctx:
        batch = ingest.log_batch(ctx, key, name, tmp, fmt)
    if batch.created:
        check_after_ingest(caller, batch.monitor_id)
    return batch


_UPLOAD_FORM = {  # the form is read by the handler (after the role check), so spelled out
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A CSV or Parquet file of feature rows and "
                            "predictions (prediction_id, timestamp, prediction, score, "
                            "label, latency_ms, error: the monitor's role columns).",
                        }
                    },
                }
            }
        },
    }
}


@router.post(f"{BASE}/batches", status_code=201, openapi_extra=_UPLOAD_FORM)
async def log_batch(
    key: str, name: str, request: Request, caller: CallerDep, response: Response
) -> Batch:
    """Log a batch (multipart ``file``, CSV or Parquet), read in chunks: feature rows are
    folded into per-window profiles, predictions stored row by row. The same content sent
    again returns the stored batch with status 200."""
    await run_in_threadpool(_may_log, caller, key, name)
    async with request.form(max_files=1, max_fields=5) as form:
        file = form.get("file")
        if not isinstance(file, FormFile):
            raise InvalidInput("file: Field required (a CSV or Parquet file, as form data)")
        fmt = data_io.detect_format(Path(file.filename or "upload"))
        if fmt not in (DataFormat.CSV, DataFormat.PARQUET):
            raise InvalidInput("send a batch as a .csv or .parquet file")
        async with spooled(caller, file, fmt) as tmp:
            batch = await run_in_threadpool(_log_file, caller, key, name, tmp, fmt)
    if not batch.created:
        response.status_code = 200
    return batch


@router.post(f"{BASE}/profiles", status_code=201)
def log_profile(
    key: str, name: str, body: ProfileBatchIn, caller: CallerDep, response: Response
) -> Batch:
    """Log a batch summarised where the data live (``numeric.sketch.profile_to_dict``)."""
    with caller.write() as ctx:
        batch = ingest.log_profile(ctx, key, name, body)
    if batch.created:
        check_after_ingest(caller, batch.monitor_id)
    else:
        response.status_code = 200
    return batch


@router.post(f"{BASE}/labels")
def log_labels(key: str, name: str, body: LabelsIn, caller: CallerDep) -> Labelled:
    """Labels joined to stored predictions by ``prediction_id``."""
    with caller.write() as ctx:
        done = ingest.log_labels(ctx, key, name, body)
        monitor_id = service.monitor_row(ctx, key, name, Role.VIEWER).id
    if done.windows:
        check_after_ingest(caller, monitor_id)
    return done


@router.get(f"{BASE}/batches")
def list_batches(
    key: str,
    name: str,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Batch]:
    with caller.read() as ctx:
        return service.list_batches(ctx, key, name, limit=limit)


@router.get(f"{BASE}/results")
def results(
    key: str,
    name: str,
    caller: CallerDep,
    scope: Scope = Scope.WINDOW,
    since: Annotated[UTCDate | None, Query()] = None,
    until: Annotated[UTCDate | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[Result]:
    """Results oldest first: per window (its latest check) or per batch, with each
    column's statistic, p-value and threshold, and each check's value and threshold."""
    with caller.read() as ctx:
        return service.results(ctx, key, name, scope=scope, since=since, until=until, limit=limit)


@router.post(f"{BASE}/check")
def check_now(key: str, name: str, caller: CallerDep) -> dict[str, int]:
    """Check the monitor's due windows now; returns how many were checked."""
    with caller.read() as ctx:
        monitor_id = service.monitor_row(ctx, key, name, Role.CONTRIBUTOR).id
    return {"checked": len(jobs.run_pending(caller.state, monitor_id=monitor_id))}


@router.get("/projects/{key}/alerts")
def list_alerts(
    key: str,
    caller: CallerDep,
    state: AlertState | None = None,
    monitor: Annotated[str | None, Query(max_length=200)] = None,
) -> list[Alert]:
    with caller.read() as ctx:
        return service.list_alerts(ctx, key, monitor=monitor, state=state)
