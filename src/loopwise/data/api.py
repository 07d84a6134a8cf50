"""REST endpoints for datasets, versions (upload, DVC), lineage links, leakage and
readiness."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from loopwise.accounts.models import Role
from loopwise.core.errors import InvalidInput, TooLarge
from loopwise.core.limits import MAX_JSON_DEPTH
from loopwise.data import io, service
from loopwise.data.models import (
    DataFormat,
    Dataset,
    DatasetVersion,
    LeakageCheck,
    Readiness,
    Registered,
    RunDataset,
    VersionMeta,
)
from loopwise.data.schemas import (
    CiteIn,
    DatasetCreate,
    DvcIn,
    ExpectationsIn,
    LeakageIn,
    MetaIn,
    RunDatasetIn,
)
from loopwise.projects import service as projects
from loopwise.web.deps import Caller, CallerDep

router = APIRouter(prefix="/api/v1", tags=["data"])


@router.get("/projects/{key}/datasets")
def list_datasets(key: str, caller: CallerDep) -> list[Dataset]:
    with caller.read() as ctx:
        return service.list_datasets(ctx, key)


@router.post("/projects/{key}/datasets", status_code=201)
def create_dataset(key: str, body: DatasetCreate, caller: CallerDep) -> Dataset:
    with caller.write() as ctx:
        return service.create_dataset(
            ctx, key, body.name, description=body.description, expectations=body.expectations
        )


@router.get("/projects/{key}/datasets/{name}")
def get_dataset(key: str, name: str, caller: CallerDep) -> Dataset:
    with caller.read() as ctx:
        return service.get_dataset(ctx, key, name)


@router.put("/projects/{key}/datasets/{name}/expectations")
def set_expectations(key: str, name: str, body: ExpectationsIn, caller: CallerDep) -> Dataset:
    with caller.write() as ctx:
        return service.set_expectations(ctx, key, name, body.expectations)


@router.get("/projects/{key}/datasets/{name}/versions")
def list_versions(key: str, name: str, caller: CallerDep) -> list[DatasetVersion]:
    with caller.read() as ctx:
        return service.list_versions(ctx, key, name)


def _meta(raw: str) -> MetaIn:
    try:
        return MetaIn.model_validate(json.loads(raw or "{}"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"meta is not JSON: {exc}") from exc
    except RecursionError:
        raise InvalidInput(f"meta is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"meta.{where}: {first['msg']}") from exc


def register_upload(
    caller: Caller, key: str, name: str, tmp: Path, meta: VersionMeta, fmt: DataFormat
) -> Registered:
    """Register a spooled upload (blocking: run it in the thread pool)."""
    with caller.write() as ctx:
        return service.register_path(ctx, key, name, tmp, meta=meta, fmt=fmt, keep=True)


@asynccontextmanager
async def spooled(caller: Caller, file: FormFile, fmt: DataFormat) -> AsyncIterator[Path]:
    """The uploaded file copied to a temporary file under the size limit; removed on exit
    (a registered upload has been moved into the content store by then)."""
    limit = caller.state.settings.max_artifact_bytes
    if file.size is not None and file.size > limit:
        raise TooLarge(f"dataset file is {file.size} bytes; the limit is {limit}")
    fd, tmp_name = tempfile.mkstemp(dir=caller.state.artifact_tmp, suffix=f".{fmt.value}")
    tmp = Path(tmp_name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as handle:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"dataset file exceeds the {limit}-byte limit")
                handle.write(chunk)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


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
                            "description": "A CSV or Parquet file.",
                        },
                        "meta": {
                            "type": "string",
                            "default": "{}",
                            "description": "JSON: owner, licence, personal_data, ...",
                        },
                    },
                }
            }
        },
    }
}


def _may_upload(caller: Caller, key: str) -> None:
    with caller.read() as ctx:
        projects.resolve_project(ctx, key, Role.CONTRIBUTOR)


@router.post(
    "/projects/{key}/datasets/{name}/versions", status_code=201, openapi_extra=_UPLOAD_FORM
)
async def upload_version(
    key: str, name: str, request: Request, caller: CallerDep, response: Response
) -> Registered:
    """Register a version from an uploaded file (multipart: ``file``, optional ``meta``).
    Identical content returns the existing version with status 200. The caller's role is
    checked before any of the body is read."""
    await run_in_threadpool(_may_upload, caller, key)
    async with request.form(max_files=1, max_fields=10) as form:
        file, meta = form.get("file"), form.get("meta") or "{}"
        if not isinstance(file, FormFile):
            raise InvalidInput("file: Field required (a CSV or Parquet file, as form data)")
        if not isinstance(meta, str):
            raise InvalidInput("meta: a JSON text field, not a file")
        details = _meta(meta).to_meta()
        fmt = io.detect_format(Path(file.filename or "upload"))
        if fmt is DataFormat.DVC:
            raise InvalidInput("send a .dvc file's text to the /versions/dvc endpoint")
        async with spooled(caller, file, fmt) as tmp:
            registered = await run_in_threadpool(
                register_upload, caller, key, name, tmp, details, fmt
            )
    if not registered.created:
        response.status_code = 200
    return registered


@router.post("/projects/{key}/datasets/{name}/versions/dvc", status_code=201)
def register_dvc(
    key: str, name: str, body: DvcIn, caller: CallerDep, response: Response
) -> Registered:
    """Register DVC-tracked data by its hash and path; nothing is copied."""
    with caller.write() as ctx:
        registered = service.register_dvc(ctx, key, name, body.dvc, meta=body.meta.to_meta())
    if not registered.created:
        response.status_code = 200
    return registered


@router.get("/dataset-versions/{version_id}")
def get_version(version_id: str, caller: CallerDep) -> DatasetVersion:
    with caller.read() as ctx:
        return service.get_version(ctx, version_id)


@router.get("/dataset-versions/{version_id}/readiness")
def readiness(version_id: str, caller: CallerDep) -> Readiness:
    with caller.read() as ctx:
        return service.readiness(ctx, version_id)


@router.get("/dataset-versions/{version_id}/leakage")
def leakage_checks(version_id: str, caller: CallerDep) -> list[LeakageCheck]:
    with caller.read() as ctx:
        return service.leakage_checks(ctx, version_id)


@router.post("/leakage-checks", status_code=201)
def check_leakage(body: LeakageIn, caller: CallerDep) -> LeakageCheck:
    with caller.write() as ctx:
        return service.check_leakage(
            ctx,
            body.train_version_id,
            body.eval_version_id,
            label=body.label,
            id_columns=body.id_columns,
        )


@router.post("/runs/{run_id}/datasets")
def use_dataset(run_id: str, body: RunDatasetIn, caller: CallerDep) -> RunDataset:
    with caller.write() as ctx:
        return service.use_in_run(ctx, run_id, body.version_id, body.role)


@router.get("/runs/{run_id}/datasets")
def run_datasets(run_id: str, caller: CallerDep) -> list[RunDataset]:
    with caller.read() as ctx:
        return service.datasets_of_run(ctx, run_id)


@router.post("/items/{item_key}/datasets")
def cite(item_key: str, body: CiteIn, caller: CallerDep) -> list[DatasetVersion]:
    """A work item cites a dataset version (its readiness report) as evidence."""
    with caller.write() as ctx:
        return service.cite(ctx, item_key, body.version_id)
