"""MLflow tracking endpoints: experiments, runs, params, metrics, tags, search, history,
artifacts (proxied) and server info. Registry endpoints are in ``models_api``."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound, PermissionDenied, TooLarge
from loopwise.core.ids import new_id
from loopwise.core.limits import MAX_SEARCH_TEXT
from loopwise.data import service as datasets
from loopwise.data.models import DatasetRole
from loopwise.mlflow_compat import experiment_search, wire
from loopwise.mlflow_compat import openapi as doc
from loopwise.tracking import artifacts, experiments, inputs, logged_models, series, validation
from loopwise.tracking import search as grammar
from loopwise.tracking import service as tracking
from loopwise.tracking.models import RunStatus
from loopwise.tracking.schemas import RunCreate, RunFinish
from loopwise.web.body import check_declared_size
from loopwise.web.deps import Caller, CallerDep
from loopwise.web.security import download_headers, download_type

router = APIRouter(tags=["mlflow"])
API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
MAX_SEARCH = 50_000
HISTORY_PAGE = 25_000
VIEWS = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


def ok(payload: dict[str, Any] | None = None) -> Response:
    """A JSON body, serialized with orjson (a page of runs is thousands of small objects)."""
    return Response(orjson.dumps(payload or {}), media_type="application/json")


# --- experiments -----------------------------------------------------------------------


@router.get(
    f"{API}/experiments/get-by-name",
    openapi_extra=doc.describe(query=doc.MlflowExperimentByName, reply=doc.MlflowExperimentReply),
)
async def get_experiment_by_name(request: Request, caller: CallerDep) -> Response:
    name = wire.text(wire.query(request), "experiment_name")
    await _ensure_default(caller)
    info = await wire.call(caller, lambda ctx: experiments.by_name(ctx, name), write=False)
    return ok({"experiment": wire.experiment(info)})


@router.post(
    f"{API}/experiments/create",
    openapi_extra=doc.describe(body=doc.MlflowExperimentCreate, reply=doc.MlflowExperimentCreated),
)
async def create_experiment(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name = wire.text(data, "name", limit=200)
    location = wire.artifact_location(wire.optional_text(data, "artifact_location", limit=2000))
    tags = validation.tags(wire.pairs(data, "tags"), validation.EXPERIMENT_TAG)
    info = await wire.call(
        caller, lambda ctx: experiments.create(ctx, name, tags, location), write=True
    )
    return ok({"experiment_id": str(info.number)})


@router.get(
    f"{API}/experiments/get",
    openapi_extra=doc.describe(query=doc.MlflowExperimentRef, reply=doc.MlflowExperimentReply),
)
async def get_experiment(request: Request, caller: CallerDep) -> Response:
    number = wire.experiment_number(wire.required(wire.query(request), "experiment_id"))
    info = await wire.call(
        caller, lambda ctx: experiments.by_number(ctx, number), write=number == 0
    )
    return ok({"experiment": wire.experiment(info)})


@router.get(
    f"{API}/experiments/search",
    operation_id="search_experiments_get",
    openapi_extra=doc.describe(query=doc.MlflowExperimentSearch, reply=doc.MlflowExperimentPage),
)
@router.post(
    f"{API}/experiments/search",
    operation_id="search_experiments_post",
    openapi_extra=doc.describe(body=doc.MlflowExperimentSearch, reply=doc.MlflowExperimentPage),
)
async def search_experiments(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request) if request.method == "POST" else wire.query(request)
    await _ensure_default(caller)
    view = {"ACTIVE_ONLY": "active", "DELETED_ONLY": "deleted", "ALL": "all"}.get(
        str(data.get("view_type") or "ACTIVE_ONLY"), "active"
    )
    filter_text = wire.optional_text(data, "filter", limit=MAX_SEARCH_TEXT)
    order = wire.strings(data, "order_by") if request.method == "POST" else _order_query(request)
    limit = wire.integer(data.get("max_results") or 1000, "max_results")
    wire.check_max_results(limit, MAX_SEARCH)
    offset = grammar.decode_token(data.get("page_token"))

    def work(ctx: Context) -> list[experiments.ExperimentInfo]:
        return experiment_search.search(experiments.search(ctx, view=view), filter_text, order)

    found = await wire.call(caller, work, write=False)
    page = found[offset : offset + limit]
    payload: dict[str, Any] = {"experiments": [wire.experiment(e) for e in page]}
    if offset + limit < len(found):
        payload["next_page_token"] = grammar.encode_token(offset + limit)
    return ok(payload)


async def _ensure_default(caller: Caller) -> None:
    """MLflow's store has the Default experiment "0" from the start: made on first sight."""
    if not await wire.call(caller, lambda ctx: experiments.exists(ctx, 0), write=False):
        # a caller who may not make it sees none, as before
        with contextlib.suppress(PermissionDenied, NotFound):
            await wire.call(caller, experiments.default_experiment, write=True)


def _order_query(request: Request) -> list[str]:
    """``order_by`` of a GET search: repeated in the query string."""
    return [str(v) for v in request.query_params.getlist("order_by")]


@router.post(f"{API}/experiments/delete", openapi_extra=doc.describe(body=doc.MlflowExperimentRef))
async def delete_experiment(request: Request, caller: CallerDep) -> Response:
    number = wire.experiment_number(wire.required(await wire.body(request), "experiment_id"))
    await wire.call(
        caller, lambda ctx: experiments.set_lifecycle(ctx, number, "deleted"), write=True
    )
    return ok()


@router.post(f"{API}/experiments/restore", openapi_extra=doc.describe(body=doc.MlflowExperimentRef))
async def restore_experiment(request: Request, caller: CallerDep) -> Response:
    number = wire.experiment_number(wire.required(await wire.body(request), "experiment_id"))
    await wire.call(
        caller, lambda ctx: experiments.set_lifecycle(ctx, number, "active"), write=True
    )
    return ok()


@router.post(
    f"{API}/experiments/update", openapi_extra=doc.describe(body=doc.MlflowExperimentRename)
)
async def update_experiment(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    number = wire.experiment_number(wire.required(data, "experiment_id"))
    name = wire.text(data, "new_name", limit=200)
    await wire.call(caller, lambda ctx: experiments.rename(ctx, number, name), write=True)
    return ok()


@router.post(
    f"{API}/experiments/set-experiment-tag",
    openapi_extra=doc.describe(body=doc.MlflowExperimentTag),
)
async def set_experiment_tag(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    number = wire.experiment_number(wire.required(data, "experiment_id"))
    key = wire.key(data)
    value = wire.value(validation.EXPERIMENT_TAG, data)
    await wire.call(caller, lambda ctx: experiments.set_tag(ctx, number, key, value), write=True)
    return ok()


@router.post(
    f"{API}/experiments/delete-experiment-tag",
    openapi_extra=doc.describe(body=doc.MlflowExperimentTagRef),
)
async def delete_experiment_tag(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    number = wire.experiment_number(wire.required(data, "experiment_id"))
    key = wire.key(data)
    await wire.call(caller, lambda ctx: experiments.delete_tag(ctx, number, key), write=True)
    return ok()


# --- runs ------------------------------------------------------------------------------


def _run_payload(ctx: Context, run_id: str) -> dict[str, Any]:
    run = tracking.get_run(ctx, run_id)
    number = experiments.numbers(ctx, {run.experiment_id})[run.experiment_id]
    return wire.run(
        run, number, inputs.of_run(ctx, run_id), logged_models.models_of_run(ctx, run_id)
    )


@router.post(
    f"{API}/runs/create",
    openapi_extra=doc.describe(body=doc.MlflowRunCreate, reply=doc.MlflowRunReply),
)
async def create_run(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    number = wire.experiment_number(data.get("experiment_id") or "0")
    tags = validation.tags(wire.pairs(data, "tags"))
    if data.get("user_id"):
        tags.setdefault(wire.USER_TAG, validation.value(validation.TAG, data["user_id"], "user_id"))
    name = wire.optional_text(data, "run_name") or tags.get(wire.RUN_NAME_TAG)
    if name is not None:
        name = validation.value(validation.RUN_NAME, name, "run_name")
    start = wire.from_millis(data["start_time"], "start_time") if data.get("start_time") else None

    run_id = new_id("run")
    tags[wire.RUN_NAME_TAG] = name = name or f"run-{run_id[4:12]}"

    def work(ctx: Context) -> dict[str, Any]:
        info = experiments.by_number(ctx, number, Role.CONTRIBUTOR)
        if info.lifecycle_stage != "active":
            raise InvalidInput(f"experiment {number} is deleted")
        run = tracking.create_run(
            ctx,
            info.project_key,
            RunCreate(experiment=info.name, name=name, start_time=start),
            run_id=run_id,
            tags=tags,  # written after the run row: tag events see the run
        )
        return wire.run(run, info.number)

    return ok({"run": await wire.call(caller, work, write=True, grouped=True)})


@router.get(
    f"{API}/runs/get", openapi_extra=doc.describe(query=doc.MlflowRunRef, reply=doc.MlflowRunReply)
)
async def get_run(request: Request, caller: CallerDep) -> Response:
    rid = wire.run_id(wire.required(wire.query(request), "run_id", "run_uuid"))
    return ok({"run": await wire.call(caller, lambda ctx: _run_payload(ctx, rid), write=False)})


@router.post(
    f"{API}/runs/update",
    openapi_extra=doc.describe(body=doc.MlflowRunUpdate, reply=doc.MlflowRunInfoReply),
)
async def update_run(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id", "run_uuid"))
    status = str(data.get("status") or "").upper()
    end = wire.from_millis(data["end_time"], "end_time") if data.get("end_time") else None
    name = wire.optional_text(data, "run_name", limit=200)

    def work(ctx: Context) -> dict[str, Any]:
        if name:
            experiments.rename_run(ctx, rid, name)
            tracking.set_tags(ctx, rid, {wire.RUN_NAME_TAG: name})
        if status and status not in ("RUNNING", "SCHEDULED"):
            ours = {v: k for k, v in wire.STATUS.items()}.get(status)
            if ours is None:
                raise InvalidInput(f"Invalid value {status!r} for parameter 'status' supplied")
            current = tracking.get_run(ctx, rid)
            if current.status is not RunStatus(ours) or current.end_time is None:
                tracking.finish_run(ctx, rid, RunFinish(status=RunStatus(ours), end_time=end))
        info: dict[str, Any] = _run_payload(ctx, rid)["info"]
        return info

    return ok({"run_info": await wire.call(caller, work, write=True)})


@router.post(f"{API}/runs/delete", openapi_extra=doc.describe(body=doc.MlflowRunOnly))
async def delete_run(request: Request, caller: CallerDep) -> Response:
    rid = wire.run_id(wire.required(await wire.body(request), "run_id"))
    await wire.call(
        caller, lambda ctx: experiments.set_run_lifecycle(ctx, rid, "deleted"), write=True
    )
    return ok()


@router.post(f"{API}/runs/restore", openapi_extra=doc.describe(body=doc.MlflowRunOnly))
async def restore_run(request: Request, caller: CallerDep) -> Response:
    rid = wire.run_id(wire.required(await wire.body(request), "run_id"))
    await wire.call(
        caller, lambda ctx: experiments.set_run_lifecycle(ctx, rid, "active"), write=True
    )
    return ok()


@router.post(f"{API}/runs/log-parameter", openapi_extra=doc.describe(body=doc.MlflowLogParam))
async def log_param(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id", "run_uuid"))
    key = wire.key(data)
    value = wire.value(validation.PARAM, data)
    await wire.call(
        caller, lambda ctx: tracking.log_params(ctx, rid, {key: value}), write=True, inline=True
    )
    return ok()


@router.post(f"{API}/runs/log-metric", openapi_extra=doc.describe(body=doc.MlflowLogMetric))
async def log_metric(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id", "run_uuid"))

    fields = ("key", "value", "timestamp", "step", "model_id")
    points, model_points = wire.metrics_with_models([{k: data[k] for k in fields if k in data}])

    def work(ctx: Context) -> None:
        tracking.log_tuples(ctx, rid, points)
        if model_points:
            logged_models.log_metrics(ctx, rid, model_points)

    await wire.call(caller, work, write=True, inline=True)
    return ok()


@router.post(f"{API}/runs/log-batch", openapi_extra=doc.describe(body=doc.MlflowLogBatch))
async def log_batch(request: Request, caller: CallerDep) -> Response:
    found = await wire.batch(request)

    def work(ctx: Context) -> None:
        if found.params:
            tracking.log_params(ctx, found.run_id, found.params)
        if found.tags:
            tracking.set_tags(ctx, found.run_id, found.tags)
        if found.metrics:
            tracking.log_tuples(ctx, found.run_id, found.metrics)
        if found.model_metrics:
            logged_models.log_metrics(ctx, found.run_id, found.model_metrics)

    await wire.call(caller, work, write=True, grouped=True)
    return ok()


@router.post(f"{API}/runs/set-tag", openapi_extra=doc.describe(body=doc.MlflowSetTag))
async def set_tag(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id", "run_uuid"))
    key = wire.key(data)
    value = wire.value(validation.TAG, data)
    await wire.call(
        caller, lambda ctx: tracking.set_tags(ctx, rid, {key: value}), write=True, inline=True
    )
    return ok()


@router.post(f"{API}/runs/delete-tag", openapi_extra=doc.describe(body=doc.MlflowDeleteTag))
async def delete_tag(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id", "run_uuid"))
    key = wire.key(data)
    await wire.call(caller, lambda ctx: tracking.delete_tag(ctx, rid, key, strict=True), write=True)
    return ok()


@router.post(
    f"{API}/runs/search",
    openapi_extra=doc.describe(body=doc.MlflowRunSearch, reply=doc.MlflowRunPage),
)
async def search_runs(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    numbers = [wire.experiment_number(e) for e in wire.listing(data, "experiment_ids")]
    limit = wire.integer(data.get("max_results") or 1000, "max_results")
    wire.check_max_results(limit, MAX_SEARCH)
    view = VIEWS.get(str(data.get("run_view_type") or "ACTIVE_ONLY"), ("active",))
    offset = grammar.decode_token(data.get("page_token"))
    order = wire.strings(data, "order_by")
    filter_string = wire.optional_text(data, "filter", limit=MAX_SEARCH_TEXT)

    def work(ctx: Context) -> dict[str, Any]:
        infos = experiments.ids_by_number(ctx, numbers)
        page, more = tracking.search_page(
            ctx,
            list(infos),
            filter_string=filter_string,
            order_by=order,
            lifecycle=view,
            limit=limit,
            offset=offset,
        )
        payload: dict[str, Any] = {"runs": wire.runs(page, infos)}
        if more:
            payload["next_page_token"] = grammar.encode_token(offset + limit)
        return payload

    return ok(await wire.call(caller, work, write=False))


@router.get(
    f"{API}/metrics/get-history",
    openapi_extra=doc.describe(query=doc.MlflowHistoryQuery, reply=doc.MlflowHistoryPage),
)
async def get_metric_history(request: Request, caller: CallerDep) -> Response:
    params = wire.query(request)
    rid = wire.run_id(wire.required(params, "run_id", "run_uuid"))
    key = wire.text(params, "metric_key", limit=250)
    limit = min(
        wire.integer(params.get("max_results") or HISTORY_PAGE, "max_results"), HISTORY_PAGE
    )
    if limit < 1:
        raise InvalidInput("max_results must be positive")
    offset = grammar.decode_token(params.get("page_token"))

    def work(ctx: Context) -> bytes:
        rows = series.page(ctx, rid, key, offset=offset, limit=limit + 1)
        payload: dict[str, Any] = {"metrics": wire.history(key, rows[:limit])}
        if len(rows) > limit:
            payload["next_page_token"] = grammar.encode_token(offset + limit)
        return orjson.dumps(payload)

    return Response(await wire.call(caller, work, write=False), media_type="application/json")


_ROLES = {
    "training": "train",
    "train": "train",
    "evaluation": "eval",
    "eval": "eval",
    "validation": "eval",
    "testing": "test",
    "test": "test",
}


def _schema(raw: Any) -> list[tuple[str, str]]:
    """Column names and types from an MLflow dataset schema (``{"mlflow_colspec": [...]}``)."""
    try:
        spec = json.loads(raw) if isinstance(raw, str) else raw
        cols = spec.get("mlflow_colspec", []) if isinstance(spec, dict) else []
        return [(str(c["name"]), str(c.get("type", "string"))) for c in cols if "name" in c][:1000]
    except (ValueError, TypeError, AttributeError):
        return []


@router.post(f"{API}/runs/log-inputs", openapi_extra=doc.describe(body=doc.MlflowLogInputs))
async def log_inputs(request: Request, caller: CallerDep) -> Response:
    """MLflow's log_input: each dataset becomes a referenced dataset version (by digest)
    linked to the run with its role (training, evaluation, ...): lineage."""
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id"))
    given = wire.listing(data, "datasets")
    model_ids = _model_ids(data, "models")

    def work(ctx: Context) -> None:
        project_key = tracking.get_run(ctx, rid).project_key
        kept: list[inputs.DatasetInput] = []
        for item in given:
            ds = item.get("dataset") if isinstance(item, dict) else None
            if not isinstance(ds, dict):
                raise InvalidInput("each input needs a dataset object")
            name = wire.text(ds, "name", limit=200)
            digest = wire.text(ds, "digest", limit=70)
            tags = validation.tags(wire.pairs(item, "tags"), where="datasets.tags")
            kept.append(
                inputs.DatasetInput(
                    name,
                    digest,
                    wire.optional_text(ds, "source_type", limit=100) or "",
                    wire.optional_text(ds, "source", limit=MAX_SEARCH_TEXT) or "",
                    wire.optional_text(ds, "schema", limit=MAX_SEARCH_TEXT) or "",
                    wire.optional_text(ds, "profile", limit=MAX_SEARCH_TEXT) or "",
                    tags,
                )
            )
            role = _ROLES.get(str(tags.get("mlflow.data.context") or "").lower(), "input")
            version = datasets.register_reference(
                ctx,
                project_key,
                name,
                digest,
                source=str(ds.get("source") or ""),
                schema=_schema(ds.get("schema")),
            ).version
            datasets.use_in_run(ctx, rid, version.id, DatasetRole(role))
        inputs.record(ctx, rid, kept)
        for model_id, _step in model_ids:
            logged_models.link_run(ctx, rid, model_id, "input")

    await wire.call(caller, work, write=True)
    return ok()


def _model_ids(data: dict[str, Any], name: str) -> list[tuple[str, int]]:
    """(model_id, step) from a list of ``{"model_id", "step"}`` objects."""
    found = []
    for i, item in enumerate(wire.listing(data, name)):
        if not isinstance(item, dict):
            raise wire.invalid(f"{name}[{i}]", item)
        model_id = wire.text(item, "model_id", limit=40)
        step = wire.integer(item.get("step") or 0, f"{name}[{i}].step")
        found.append((model_id, step))
    return found


@router.post(f"{API}/runs/outputs", openapi_extra=doc.describe(body=doc.MlflowLogOutputs))
async def log_outputs(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    rid = wire.run_id(wire.required(data, "run_id"))
    wire.required(data, "models")
    models = _model_ids(data, "models")

    def work(ctx: Context) -> None:
        for model_id, step in models:
            logged_models.link_run(ctx, rid, model_id, "output", step)

    await wire.call(caller, work, write=True)
    return ok()


@router.get("/api/3.0/mlflow/server-info", openapi_extra=doc.describe(reply=doc.MlflowServerInfo))
async def server_info() -> Response:
    return ok(
        {
            "store_type": "Loopwise",
            "workspaces_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
        }
    )


# --- proxied artifacts -----------------------------------------------------------------


def _root(ctx: Context, path: str, needed: Role) -> tuple[Path, str]:
    """The folder and the remaining path for ``<exp>/<run>/artifacts/...`` or
    ``<exp>/models/<model_id>/artifacts/...``."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) >= 3 and parts[2] == "artifacts":
        rid = wire.run_id(parts[1])
        return artifacts.run_folder(ctx, rid, needed), "/".join(parts[3:])
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        return logged_models.folder(ctx, parts[2], needed), "/".join(parts[4:])
    raise NotFound(f"no artifact location {path!r}")


@router.get(
    ARTIFACTS,
    openapi_extra=doc.describe(query=doc.MlflowArtifactQuery, reply=doc.MlflowArtifactList),
)
async def list_artifacts(request: Request, caller: CallerDep) -> Response:
    path = str(request.query_params.get("path") or "")

    def work(ctx: Context) -> dict[str, Any]:
        try:
            root, rest = _root(ctx, path, Role.VIEWER)
        except NotFound:
            return {}
        listing = artifacts.list_in(root, rest)
        if listing is None or (
            len(listing) == 1 and not listing[0].is_dir and listing[0].path == rest
        ):
            return {}  # a file, or nothing: MLflow clients expect an empty object
        prefix = f"{rest}/" if rest else ""
        files = []
        for item in listing:
            entry: dict[str, Any] = {"path": item.path.removeprefix(prefix), "is_dir": item.is_dir}
            if not item.is_dir:
                entry["file_size"] = item.size
            files.append(entry)
        return {"files": files}

    return ok(await wire.call(caller, work, write=False))


@router.get(
    ARTIFACTS + "/{path:path}",
    response_class=FileResponse,  # documents the reply as bytes, not JSON
    openapi_extra=doc.describe(reply=None, file_reply=True),
)
async def download_artifact(path: str, caller: CallerDep) -> Response:
    def work(ctx: Context) -> Path:
        root, rest = _root(ctx, path, Role.VIEWER)
        target = artifacts.file_in(root, rest)
        if target is None:
            raise NotFound(f"no artifact {path!r}")
        return target

    target = await wire.call(caller, work, write=False)
    # Saved, never rendered: an uploaded .html must not run as whoever opens the link.
    return FileResponse(
        target, media_type=download_type(target.name), headers=download_headers(target.name)
    )


def _check_destination(caller: Caller, path: str) -> None:
    with caller.read() as ctx:
        root, rest = _root(ctx, path, Role.CONTRIBUTOR)
        artifacts.destination_in(root, rest)


def _store(caller: Caller, path: str, tmp: Path) -> None:
    with caller.read() as ctx:
        root, rest = _root(ctx, path, Role.CONTRIBUTOR)
        artifacts.store_in(root, rest, tmp, ctx.settings.max_artifact_bytes)


@router.put(ARTIFACTS + "/{path:path}", openapi_extra=doc.describe(raw_body=True))
async def upload_artifact(path: str, request: Request, caller: CallerDep) -> Response:
    """Stream the body into the run's (or logged model's) folder. The size and the
    caller's right to write there are checked before any of the body is read."""
    limit = caller.state.settings.max_artifact_bytes
    check_declared_size(request, limit)
    await run_in_threadpool(_check_destination, caller, path)
    fd, tmp_name = tempfile.mkstemp(dir=caller.state.artifact_tmp)
    tmp = Path(tmp_name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"artifact exceeds the {limit}-byte limit")
                out.write(chunk)
        await run_in_threadpool(_store, caller, path, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    return ok()
