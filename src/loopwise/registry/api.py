"""REST endpoints for the model registry, deployments, incidents and delivery metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from loopwise.registry import evaluations, lineage, service
from loopwise.registry.models import (
    CheckResult,
    DeliveryMetrics,
    Deployment,
    Incident,
    ModelVersion,
    RegisteredModel,
    Stage,
    StageEvent,
)
from loopwise.registry.schemas import (
    AliasSet,
    EvaluationIn,
    IncidentCreate,
    IncidentResolve,
    ModelCreate,
    RollbackIn,
    StageChange,
    VersionCreate,
)
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/models")
def list_models(caller: CallerDep, project: str | None = None) -> list[RegisteredModel]:
    with caller.read() as ctx:
        return service.list_models(ctx, project)


@router.post("/projects/{key}/models", status_code=201)
def create_model(key: str, body: ModelCreate, caller: CallerDep) -> RegisteredModel:
    with caller.write() as ctx:
        return service.create_model(ctx, key, body.name, body.description)


@router.get("/models/{name}")
def get_model(name: str, caller: CallerDep) -> RegisteredModel:
    with caller.read() as ctx:
        return service.get_model(ctx, name)


@router.get("/models/{name}/versions")
def list_versions(name: str, caller: CallerDep) -> list[ModelVersion]:
    with caller.read() as ctx:
        return service.list_versions(ctx, name)


@router.post("/models/{name}/versions", status_code=201)
def create_version(name: str, body: VersionCreate, caller: CallerDep) -> ModelVersion:
    with caller.write() as ctx:
        return service.create_version(
            ctx, name, run_id=body.run_id, source=body.source, description=body.description
        )


@router.get("/models/{name}/versions/{version}")
def get_version(name: str, version: int, caller: CallerDep) -> ModelVersion:
    with caller.read() as ctx:
        return service.get_version(ctx, name, version)


@router.get("/models/{name}/versions/{version}/checks")
def promotion_checks(
    name: str, version: int, caller: CallerDep, stage: Stage = Stage.PRODUCTION
) -> list[CheckResult]:
    """What each promotion check for ``stage`` says now (canary and production need all
    of theirs to pass)."""
    with caller.read() as ctx:
        return service.promotion_report(ctx, name, version, stage)


@router.post("/models/{name}/versions/{version}/stage")
def change_stage(name: str, version: int, body: StageChange, caller: CallerDep) -> ModelVersion:
    with caller.write() as ctx:
        return service.transition(
            ctx, name, version, body.stage, traffic_share=body.traffic_share, reason=body.reason
        )


@router.post("/models/{name}/rollback")
def rollback(name: str, body: RollbackIn, caller: CallerDep) -> ModelVersion:
    """Return production to the previous production version in one action."""
    with caller.write() as ctx:
        return service.rollback(ctx, name, body.reason)


@router.get("/models/{name}/history")
def stage_history(name: str, caller: CallerDep) -> list[StageEvent]:
    with caller.read() as ctx:
        return service.stage_history(ctx, name)


@router.put("/models/{name}/aliases/{alias}")
def set_alias(name: str, alias: str, body: AliasSet, caller: CallerDep) -> ModelVersion:
    with caller.write() as ctx:
        return service.set_alias(ctx, name, alias, body.version)


@router.get("/models/{name}/aliases/{alias}")
def version_by_alias(name: str, alias: str, caller: CallerDep) -> ModelVersion:
    with caller.read() as ctx:
        return service.version_by_alias(ctx, name, alias)


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: str, alias: str, caller: CallerDep) -> None:
    with caller.write() as ctx:
        service.delete_alias(ctx, name, alias)


@router.get("/projects/{key}/deployments")
def list_deployments(key: str, caller: CallerDep, active: bool = False) -> list[Deployment]:
    with caller.read() as ctx:
        return service.list_deployments(ctx, key, active_only=active)


@router.get("/projects/{key}/incidents")
def list_incidents(key: str, caller: CallerDep) -> list[Incident]:
    with caller.read() as ctx:
        return service.list_incidents(ctx, key)


@router.post("/projects/{key}/incidents", status_code=201)
def open_incident(key: str, body: IncidentCreate, caller: CallerDep) -> Incident:
    with caller.write() as ctx:
        return service.open_incident(
            ctx,
            key,
            body.title,
            severity=body.severity,
            deployment_id=body.deployment_id,
            notes=body.notes,
        )


@router.post("/incidents/{incident_id}/resolve")
def resolve_incident(incident_id: str, body: IncidentResolve, caller: CallerDep) -> Incident:
    with caller.write() as ctx:
        return service.resolve_incident(ctx, incident_id, body.notes)


@router.get("/projects/{key}/delivery")
def delivery_metrics(
    key: str, caller: CallerDep, days: Annotated[int, Query(ge=7, le=3650)] = 90
) -> DeliveryMetrics:
    with caller.read() as ctx:
        return service.delivery_metrics(ctx, key, days=days)


@router.get("/lineage/dataset-versions/{version_id}")
def lineage_from_dataset(version_id: str, caller: CallerDep) -> lineage.Lineage:
    """Everything built on a dataset version: runs, model versions, deployments."""
    with caller.read() as ctx:
        return lineage.from_dataset_version(ctx, version_id)


@router.get("/lineage/deployments/{deployment_id}")
def lineage_from_deployment(deployment_id: str, caller: CallerDep) -> lineage.Lineage:
    """A deployment back to its model version, run and data."""
    with caller.read() as ctx:
        return lineage.from_deployment(ctx, deployment_id)


@router.post("/projects/{key}/evaluations", status_code=201)
def record_evaluation(
    key: str, body: EvaluationIn, caller: CallerDep
) -> evaluations.EvaluationRecord:
    """Evaluate predictions against labels (with bootstrap intervals and slices)."""
    with caller.write() as ctx:
        return evaluations.record(
            ctx,
            key,
            body.task,
            body.y_true,
            body.y_pred,
            y_score=body.y_score,
            features=body.features,
            slices=body.slices,
            slice_column=body.slice_column,
            model=body.model,
            version=body.version,
            run_id=body.run_id,
            dataset_version_id=body.dataset_version_id,
            n_boot=body.n_boot,
            seed=body.seed,
        )


@router.get("/projects/{key}/evaluations")
def list_evaluations(key: str, caller: CallerDep) -> list[evaluations.EvaluationRecord]:
    with caller.read() as ctx:
        return evaluations.list_for_project(ctx, key)


@router.get("/evaluations/{evaluation_id}")
def get_evaluation(evaluation_id: str, caller: CallerDep) -> evaluations.EvaluationRecord:
    with caller.read() as ctx:
        return evaluations.get(ctx, evaluation_id)


@router.get("/models/{name}/compare")
def champion_vs_challenger(
    name: str,
    caller: CallerDep,
    champion: str = "champion",
    challenger: str = "challenger",
    dataset_version_id: str | None = None,
) -> evaluations.Comparison:
    """Champion and challenger side by side on the same evaluation dataset version."""
    with caller.read() as ctx:
        return evaluations.champion_vs_challenger(
            ctx,
            name,
            champion=champion,
            challenger=challenger,
            dataset_version_id=dataset_version_id,
        )
