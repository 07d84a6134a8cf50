"""MLflow 3 logged-model endpoints beyond create/get/finalize/tags/search (those are in
``models_api``): delete, delete a tag, log params. Thin: each is one tracking use case."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.mlflow_compat import openapi as doc
from loopwise.mlflow_compat import wire
from loopwise.mlflow_compat.api import API, ok
from loopwise.tracking import logged_models, validation
from loopwise.web.deps import CallerDep

router = APIRouter(tags=["mlflow"])


@router.delete(f"{API}/logged-models/{{model_id}}", openapi_extra=doc.describe())
async def delete_logged_model(model_id: str, caller: CallerDep) -> Response:
    await wire.call(caller, lambda ctx: logged_models.delete(ctx, model_id), write=True)
    return ok()


@router.delete(
    f"{API}/logged-models/{{model_id}}/tags/{{tag_key:path}}", openapi_extra=doc.describe()
)
async def delete_logged_model_tag(model_id: str, tag_key: str, caller: CallerDep) -> Response:
    await wire.call(
        caller, lambda ctx: logged_models.delete_tag(ctx, model_id, tag_key), write=True
    )
    return ok()


@router.post(
    f"{API}/logged-models/{{model_id}}/params",
    openapi_extra=doc.describe(body=doc.MlflowLoggedModelParams),
)
async def log_logged_model_params(model_id: str, request: Request, caller: CallerDep) -> Response:
    params = validation.params(wire.pairs(await wire.body(request), "params"))
    await wire.call(caller, lambda ctx: logged_models.log_params(ctx, model_id, params), write=True)
    return ok()
