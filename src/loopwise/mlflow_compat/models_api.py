"""MLflow model-registry and logged-model endpoints, mapped onto Loopwise's registry.

Stages: MLflow's None/Staging/Production/Archived are Loopwise's none/staging/
production/archived. A canary (part of production traffic, not yet all of it) shows as
Staging, so ``get_latest_versions(["Staging"])`` and ``models:/name/Staging`` find it;
moving a version to Staging through MLflow makes it staging, never canary.
``models:/name/latest`` is the newest version whatever its stage.

A registered model created without a project lives in the default MLflow project until
its first version, then moves to the project of that version's run.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.limits import MAX_SEARCH_TEXT
from loopwise.mlflow_compat import openapi as doc
from loopwise.mlflow_compat import wire
from loopwise.mlflow_compat.api import API, ok
from loopwise.registry import catalog, search
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion, RegisteredModel, Stage, can_move
from loopwise.tracking import experiments, logged_models, validation
from loopwise.tracking import service as tracking
from loopwise.tracking.logged_models import LoggedModel
from loopwise.web.deps import CallerDep

router = APIRouter(tags=["mlflow"])
TO_MLFLOW = {
    Stage.NONE: "None",
    Stage.STAGING: "Staging",
    Stage.CANARY: "Staging",
    Stage.PRODUCTION: "Production",
    Stage.ARCHIVED: "Archived",
}
FROM_MLFLOW = {
    "none": Stage.NONE,
    "staging": Stage.STAGING,
    "production": Stage.PRODUCTION,
    "archived": Stage.ARCHIVED,
}


MLFLOW_STAGES = ("None", "Staging", "Production", "Archived")


def _pairs(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def _version(v: ModelVersion, tags: dict[str, str] | None = None) -> dict[str, Any]:
    created, updated = wire.millis(v.created_at), wire.millis(v.updated_at)
    return {
        "name": v.model,
        "version": str(v.version),
        "creation_timestamp": created,
        "last_updated_timestamp": updated,
        "current_stage": TO_MLFLOW[v.stage],
        "description": v.description,
        "source": v.source,
        "run_id": wire.mlflow_run_id(v.run_id) if v.run_id else "",
        "status": "READY",
        "run_link": "",
        "aliases": list(v.aliases),
        "tags": _pairs(tags or {}),
    }


def _versions(ctx: Context, versions: list[ModelVersion]) -> list[dict[str, Any]]:
    tags = catalog.version_tags(ctx, [v.id for v in versions])
    return [_version(v, tags.get(v.id)) for v in versions]


def latest_versions(ctx: Context, name: str, stages: list[str]) -> list[ModelVersion]:
    """The newest version in each MLflow stage asked for (every stage when none is), as
    MLflow's ``get_latest_versions`` answers: stages map through ``TO_MLFLOW``, so a canary
    counts as Staging."""
    wanted = {_mlflow_stage(s) for s in stages} or set(MLFLOW_STAGES)
    newest: dict[str, ModelVersion] = {}
    for v in registry.list_versions(ctx, name):  # newest first
        if TO_MLFLOW[v.stage] in wanted:
            newest.setdefault(TO_MLFLOW[v.stage], v)
    return sorted(newest.values(), key=lambda v: v.version)


def _mlflow_stage(given: object) -> str:
    for stage in MLFLOW_STAGES:
        if isinstance(given, str) and given.lower() == stage.lower():
            return stage
    raise InvalidInput(
        f"Invalid Model Version stage: {given}. Value must be one of {', '.join(MLFLOW_STAGES)}."
    )


def _model(ctx: Context, m: RegisteredModel, *, latest: bool = True) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": m.name,
        "creation_timestamp": wire.millis(m.created_at),
        "last_updated_timestamp": wire.millis(m.updated_at),
        "description": m.description,
        "aliases": [{"alias": a, "version": str(v)} for a, v in m.aliases.items()],
        "tags": _pairs(catalog.model_tags(ctx, [m.name])[m.name]),
    }
    if latest:
        payload["latest_versions"] = _versions(ctx, latest_versions(ctx, m.name, []))
    return payload


def _default_project(ctx: Context) -> str:
    return experiments.default_experiment(ctx).project_key


@router.post(
    f"{API}/registered-models/create",
    openapi_extra=doc.describe(body=doc.MlflowModelCreate, reply=doc.MlflowModelReply),
)
async def create_registered_model(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name = wire.text(data, "name", limit=200)
    description = str(data.get("description") or "")
    tags = wire.pairs(data, "tags")

    def work(ctx: Context) -> dict[str, Any]:
        model = registry.create_model(ctx, _default_project(ctx), name, description)
        for key, value in tags:
            catalog.set_model_tag(ctx, name, key, value)
        return _model(ctx, model, latest=False)

    return ok({"registered_model": await wire.call(caller, work, write=True)})


@router.get(
    f"{API}/registered-models/get",
    openapi_extra=doc.describe(query=doc.MlflowModelName, reply=doc.MlflowModelReply),
)
async def get_registered_model(request: Request, caller: CallerDep) -> Response:
    name = wire.text(wire.query(request), "name", limit=200)
    data = await wire.call(
        caller, lambda ctx: _model(ctx, registry.get_model(ctx, name)), write=False
    )
    return ok({"registered_model": data})


@router.get(
    f"{API}/registered-models/search",
    operation_id="search_registered_models_get",
    openapi_extra=doc.describe(query=doc.MlflowModelSearch, reply=doc.MlflowModelPage),
)
@router.post(
    f"{API}/registered-models/search",
    operation_id="search_registered_models_post",
    openapi_extra=doc.describe(body=doc.MlflowModelSearch, reply=doc.MlflowModelPage),
)
async def search_registered_models(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request) if request.method == "POST" else wire.query(request)
    filter_string = wire.optional_text(data, "filter", limit=MAX_SEARCH_TEXT)
    order_by = _order_by(request, data)
    limit = wire.integer(data["max_results"], "max_results") if data.get("max_results") else None

    def work(ctx: Context) -> dict[str, Any]:
        page = search.search_models(ctx, filter_string, order_by, limit, data.get("page_token"))
        payload: dict[str, Any] = {"registered_models": [_model(ctx, m) for m in page.models]}
        if page.next_page_token:
            payload["next_page_token"] = page.next_page_token
        return payload

    return ok(await wire.call(caller, work, write=False))


def _order_by(request: Request, data: dict[str, Any]) -> list[str]:
    """``order_by`` as a JSON list (POST) or repeated query parameters (GET)."""
    if request.method == "GET":
        return request.query_params.getlist("order_by")
    return wire.strings(data, "order_by")


@router.get(
    f"{API}/registered-models/get-latest-versions",
    operation_id="get_latest_versions_get",
    openapi_extra=doc.describe(query=doc.MlflowLatestVersions, reply=doc.MlflowVersionList),
)
@router.post(
    f"{API}/registered-models/get-latest-versions",
    operation_id="get_latest_versions_post",
    openapi_extra=doc.describe(body=doc.MlflowLatestVersions, reply=doc.MlflowVersionList),
)
async def get_latest_versions(request: Request, caller: CallerDep) -> Response:
    if request.method == "POST":
        data = await wire.body(request)
        stages = wire.strings(data, "stages")
    else:
        data, stages = wire.query(request), request.query_params.getlist("stages")
    name = wire.text(data, "name", limit=200)

    def work(ctx: Context) -> list[dict[str, Any]]:
        return _versions(ctx, latest_versions(ctx, name, stages))

    return ok({"model_versions": await wire.call(caller, work, write=False)})


@router.patch(
    f"{API}/registered-models/update",
    openapi_extra=doc.describe(body=doc.MlflowModelUpdate, reply=doc.MlflowModelReply),
)
async def update_registered_model(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name = wire.text(data, "name", limit=200)
    description = wire.optional_text(data, "description") or ""

    def work(ctx: Context) -> dict[str, Any]:
        return _model(ctx, catalog.update_model(ctx, name, description), latest=False)

    return ok({"registered_model": await wire.call(caller, work, write=True)})


@router.post(
    f"{API}/registered-models/rename",
    openapi_extra=doc.describe(body=doc.MlflowModelRename, reply=doc.MlflowModelReply),
)
async def rename_registered_model(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name = wire.text(data, "name", limit=200)
    new_name = wire.text(data, "new_name", limit=200)

    def work(ctx: Context) -> dict[str, Any]:
        return _model(ctx, catalog.rename_model(ctx, name, new_name), latest=False)

    return ok({"registered_model": await wire.call(caller, work, write=True)})


async def _delete_body(request: Request) -> dict[str, Any]:
    """A DELETE's fields: MLflow clients send a JSON body; the query string also works."""
    return {**wire.query(request), **(await wire.body(request))}


@router.delete(
    f"{API}/registered-models/delete", openapi_extra=doc.describe(query=doc.MlflowModelName)
)
async def delete_registered_model(request: Request, caller: CallerDep) -> Response:
    name = wire.text(await _delete_body(request), "name", limit=200)
    await wire.call(caller, lambda ctx: catalog.delete_model(ctx, name), write=True)
    return ok()


@router.post(
    f"{API}/registered-models/set-tag", openapi_extra=doc.describe(body=doc.MlflowModelTagSet)
)
async def set_registered_model_tag(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name, key = wire.text(data, "name", limit=200), wire.text(data, "key", limit=250)
    value = data.get("value")
    await wire.call(caller, lambda ctx: catalog.set_model_tag(ctx, name, key, value), write=True)
    return ok()


@router.delete(
    f"{API}/registered-models/delete-tag",
    openapi_extra=doc.describe(query=doc.MlflowModelTagRef),
)
async def delete_registered_model_tag(request: Request, caller: CallerDep) -> Response:
    data = await _delete_body(request)
    name, key = wire.text(data, "name", limit=200), wire.text(data, "key", limit=250)
    await wire.call(caller, lambda ctx: catalog.delete_model_tag(ctx, name, key), write=True)
    return ok()


@router.post(f"{API}/registered-models/alias", openapi_extra=doc.describe(body=doc.MlflowAliasSet))
async def set_alias(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name, alias = wire.text(data, "name", limit=200), wire.text(data, "alias", limit=100)
    version = wire.integer(wire.required(data, "version"), "version")
    await wire.call(caller, lambda ctx: registry.set_alias(ctx, name, alias, version), write=True)
    return ok()


@router.delete(
    f"{API}/registered-models/alias", openapi_extra=doc.describe(query=doc.MlflowAliasRef)
)
async def delete_alias(request: Request, caller: CallerDep) -> Response:
    data = {**wire.query(request), **(await wire.body(request))}
    name, alias = wire.text(data, "name", limit=200), wire.text(data, "alias", limit=100)
    await wire.call(caller, lambda ctx: registry.delete_alias(ctx, name, alias), write=True)
    return ok()


@router.get(
    f"{API}/registered-models/alias",
    openapi_extra=doc.describe(query=doc.MlflowAliasRef, reply=doc.MlflowVersionReply),
)
async def get_by_alias(request: Request, caller: CallerDep) -> Response:
    params = wire.query(request)
    name, alias = wire.text(params, "name", limit=200), wire.text(params, "alias", limit=100)

    def work(ctx: Context) -> dict[str, Any]:
        return _versions(ctx, [registry.version_by_alias(ctx, name, alias)])[0]

    return ok({"model_version": await wire.call(caller, work, write=False)})


def _run_of_source(source: str) -> str | None:
    """The run behind ``runs:/<id>/...`` or ``mlflow-artifacts:/<exp>/<id>/artifacts/...``."""
    if source.startswith("runs:/"):
        return wire.run_id(source[len("runs:/") :].split("/")[0])
    if source.startswith("mlflow-artifacts:/"):
        parts = source[len("mlflow-artifacts:/") :].strip("/").split("/")
        if len(parts) >= 3 and parts[2] == "artifacts":
            return wire.run_id(parts[1])
    return None


@router.post(
    f"{API}/model-versions/create",
    openapi_extra=doc.describe(body=doc.MlflowVersionCreate, reply=doc.MlflowVersionReply),
)
async def create_model_version(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name = wire.text(data, "name", limit=200)
    source = wire.optional_text(data, "source", limit=1000) or ""
    model_id = wire.optional_text(data, "model_id", limit=100)
    if model_id and not source:
        source = f"models:/{model_id}"
    tags = wire.pairs(data, "tags")
    raw_run = data.get("run_id")
    rid = wire.run_id(raw_run) if raw_run else _run_of_source(source)

    def work(ctx: Context) -> dict[str, Any]:
        run_id = rid
        if run_id is None and model_id:
            run_id = logged_models.get(ctx, str(model_id)).source_run_id
        if run_id is not None:
            run = tracking.get_run(ctx, run_id)
            registry.adopt(ctx, name, run.project_key)
        v = registry.create_version(
            ctx, name, run_id=run_id, source=source, description=str(data.get("description") or "")
        )
        for key, value in tags:
            catalog.set_version_tag(ctx, name, v.version, key, value)
        return _versions(ctx, [v])[0]

    return ok({"model_version": await wire.call(caller, work, write=True)})


@router.get(
    f"{API}/model-versions/get",
    openapi_extra=doc.describe(query=doc.MlflowVersionRef, reply=doc.MlflowVersionReply),
)
async def get_model_version(request: Request, caller: CallerDep) -> Response:
    params = wire.query(request)
    name = wire.text(params, "name", limit=200)
    version = wire.integer(wire.required(params, "version"), "version")

    def work(ctx: Context) -> dict[str, Any]:
        return _versions(ctx, [registry.get_version(ctx, name, version)])[0]

    return ok({"model_version": await wire.call(caller, work, write=False)})


def _name_and_version(data: dict[str, Any]) -> tuple[str, int]:
    name = wire.text(data, "name", limit=200)
    return name, wire.integer(wire.required(data, "version"), "version")


@router.post(
    f"{API}/model-versions/transition-stage",
    openapi_extra=doc.describe(body=doc.MlflowStageChange, reply=doc.MlflowVersionReply),
)
async def transition_stage(request: Request, caller: CallerDep) -> Response:
    """MLflow's stage change through Loopwise's state machine and promotion checks: a
    refused check answers 400 with what is missing. Production is reached through staging
    when the version cannot go there directly; ``archive_existing_versions`` archives the
    other versions in the target stage (production always replaces the one before)."""
    data = await wire.body(request)
    name, version = _name_and_version(data)
    stage = FROM_MLFLOW[_mlflow_stage(wire.required(data, "stage")).lower()]
    archive_others = data.get("archive_existing_versions") in (True, "true")

    def work(ctx: Context) -> dict[str, Any]:
        current = registry.get_version(ctx, name, version).stage
        if (
            not can_move(current, stage)
            and stage is Stage.PRODUCTION
            and can_move(current, Stage.STAGING)
        ):
            registry.transition(ctx, name, version, Stage.STAGING, reason="via MLflow")
        moved = registry.transition(ctx, name, version, stage, reason="via MLflow")
        if archive_others and stage is Stage.STAGING:
            for other in registry.list_versions(ctx, name):
                if other.stage is stage and other.version != version:
                    registry.transition(
                        ctx, name, other.version, Stage.ARCHIVED, reason=f"replaced by v{version}"
                    )
        return _versions(ctx, [moved])[0]

    return ok({"model_version": await wire.call(caller, work, write=True)})


@router.get(
    f"{API}/model-versions/search",
    operation_id="search_model_versions_get",
    openapi_extra=doc.describe(query=doc.MlflowModelSearch, reply=doc.MlflowVersionPage),
)
@router.post(
    f"{API}/model-versions/search",
    operation_id="search_model_versions_post",
    openapi_extra=doc.describe(body=doc.MlflowModelSearch, reply=doc.MlflowVersionPage),
)
async def search_model_versions(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request) if request.method == "POST" else wire.query(request)
    filter_string = wire.optional_text(data, "filter", limit=MAX_SEARCH_TEXT)
    order_by = _order_by(request, data)
    limit = wire.integer(data["max_results"], "max_results") if data.get("max_results") else None

    def work(ctx: Context) -> dict[str, Any]:
        page = search.search_versions(ctx, filter_string, order_by, limit, data.get("page_token"))
        payload: dict[str, Any] = {"model_versions": _versions(ctx, list(page.versions))}
        if page.next_page_token:
            payload["next_page_token"] = page.next_page_token
        return payload

    return ok(await wire.call(caller, work, write=False))


@router.patch(
    f"{API}/model-versions/update",
    openapi_extra=doc.describe(body=doc.MlflowVersionUpdate, reply=doc.MlflowVersionReply),
)
async def update_model_version(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name, version = _name_and_version(data)
    description = wire.optional_text(data, "description") or ""

    def work(ctx: Context) -> dict[str, Any]:
        return _versions(ctx, [catalog.update_version(ctx, name, version, description)])[0]

    return ok({"model_version": await wire.call(caller, work, write=True)})


@router.delete(
    f"{API}/model-versions/delete", openapi_extra=doc.describe(query=doc.MlflowVersionRef)
)
async def delete_model_version(request: Request, caller: CallerDep) -> Response:
    name, version = _name_and_version(await _delete_body(request))
    await wire.call(caller, lambda ctx: catalog.delete_version(ctx, name, version), write=True)
    return ok()


@router.post(
    f"{API}/model-versions/set-tag", openapi_extra=doc.describe(body=doc.MlflowVersionTagSet)
)
async def set_model_version_tag(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    name, version = _name_and_version(data)
    key, value = wire.text(data, "key", limit=250), data.get("value")
    await wire.call(
        caller, lambda ctx: catalog.set_version_tag(ctx, name, version, key, value), write=True
    )
    return ok()


@router.delete(
    f"{API}/model-versions/delete-tag", openapi_extra=doc.describe(query=doc.MlflowVersionTagRef)
)
async def delete_model_version_tag(request: Request, caller: CallerDep) -> Response:
    data = await _delete_body(request)
    name, version = _name_and_version(data)
    key = wire.text(data, "key", limit=250)
    await wire.call(
        caller, lambda ctx: catalog.delete_version_tag(ctx, name, version, key), write=True
    )
    return ok()


@router.get(
    f"{API}/model-versions/get-download-uri",
    openapi_extra=doc.describe(query=doc.MlflowVersionRef, reply=doc.MlflowDownloadUri),
)
async def get_download_uri(request: Request, caller: CallerDep) -> Response:
    params = wire.query(request)
    name = wire.text(params, "name", limit=200)
    version = wire.integer(wire.required(params, "version"), "version")

    def work(ctx: Context) -> str:
        v = registry.get_version(ctx, name, version)
        return download_uri(ctx, v.source)

    return ok({"artifact_uri": await wire.call(caller, work, write=False)})


def download_uri(ctx: Context, source: str) -> str:
    if source.startswith("models:/m-"):
        model = logged_models.get(ctx, source[len("models:/") :].split("/")[0])
        return _model_artifact_uri(model)
    if source.startswith("runs:/"):
        rid = _run_of_source(source)
        if rid is None:
            raise NotFound(f"cannot resolve {source!r}")
        run = tracking.get_run(ctx, rid)
        number = experiments.numbers(ctx, {run.experiment_id})[run.experiment_id]
        rest = "/".join(source[len("runs:/") :].split("/")[1:])
        return f"mlflow-artifacts:/{number}/{wire.mlflow_run_id(rid)}/artifacts/{rest}".rstrip("/")
    return source


# --- logged models ---------------------------------------------------------------------


def _model_artifact_uri(m: LoggedModel) -> str:
    return f"mlflow-artifacts:/{m.experiment_number}/models/{m.id}/artifacts"


def _logged(m: LoggedModel) -> dict[str, Any]:
    info = {
        "model_id": m.id,
        "experiment_id": str(m.experiment_number),
        "name": m.name,
        "creation_timestamp_ms": wire.millis(m.created_at),
        "last_updated_timestamp_ms": wire.millis(m.updated_at),
        "artifact_uri": _model_artifact_uri(m),
        "status": m.status,
        "model_type": m.model_type,
        "tags": [{"key": k, "value": v} for k, v in m.tags.items()],
    }
    if m.source_run_id:
        info["source_run_id"] = wire.mlflow_run_id(m.source_run_id)
    return {
        "info": info,
        "data": {"params": [{"key": k, "value": v} for k, v in m.params.items()], "metrics": []},
    }


@router.post(
    f"{API}/logged-models",
    openapi_extra=doc.describe(body=doc.MlflowLoggedModelCreate, reply=doc.MlflowLoggedModelReply),
)
async def create_logged_model(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    number = wire.experiment_number(wire.required(data, "experiment_id"))
    name = wire.text(data, "name", limit=250)
    source = wire.run_id(data["source_run_id"]) if data.get("source_run_id") else None

    def work(ctx: Context) -> dict[str, Any]:
        info = experiments.by_number(ctx, number, Role.CONTRIBUTOR)
        model = logged_models.create(
            ctx,
            info.id,
            name,
            source_run_id=source,
            model_type=str(data.get("model_type") or ""),
            tags=validation.tags(wire.pairs(data, "tags")),
            params=validation.params(wire.pairs(data, "params")),
        )
        return _logged(model)

    return ok({"model": await wire.call(caller, work, write=True)})


@router.get(
    f"{API}/logged-models/{{model_id}}",
    openapi_extra=doc.describe(reply=doc.MlflowLoggedModelReply),
)
async def get_logged_model(model_id: str, caller: CallerDep) -> Response:
    model = await wire.call(caller, lambda ctx: logged_models.get(ctx, model_id), write=False)
    return ok({"model": _logged(model)})


@router.patch(
    f"{API}/logged-models/{{model_id}}",
    openapi_extra=doc.describe(body=doc.MlflowLoggedModelUpdate, reply=doc.MlflowLoggedModelReply),
)
async def finalize_logged_model(model_id: str, request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    status = str(data.get("status") or "") or None
    model = await wire.call(
        caller, lambda ctx: logged_models.update(ctx, model_id, status=status), write=True
    )
    return ok({"model": _logged(model)})


@router.patch(
    f"{API}/logged-models/{{model_id}}/tags",
    openapi_extra=doc.describe(body=doc.MlflowLoggedModelTags),
)
async def set_logged_model_tags(model_id: str, request: Request, caller: CallerDep) -> Response:
    tags = validation.tags(wire.pairs(await wire.body(request), "tags"))
    await wire.call(caller, lambda ctx: logged_models.update(ctx, model_id, tags=tags), write=True)
    return ok()


@router.post(
    f"{API}/logged-models/search",
    openapi_extra=doc.describe(body=doc.MlflowLoggedModelSearch, reply=doc.MlflowLoggedModelPage),
)
async def search_logged_models(request: Request, caller: CallerDep) -> Response:
    data = await wire.body(request)
    numbers = [wire.experiment_number(e) for e in wire.listing(data, "experiment_ids")]
    filter_string = wire.optional_text(data, "filter", limit=MAX_SEARCH_TEXT)

    def work(ctx: Context) -> list[dict[str, Any]]:
        ids = [experiments.by_number(ctx, n).id for n in numbers]
        return [_logged(m) for m in logged_models.search(ctx, ids, filter_string)]

    return ok({"models": await wire.call(caller, work, write=False)})
