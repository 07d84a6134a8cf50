"""Server-rendered pages for delivery: registered models and their versions (stage moves,
canary shares, promotion checks, aliases, rollback), deployments, incidents and delivery
metrics, lineage diagrams, and evaluations."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.data import service as data
from loopwise.data.models import DatasetVersion
from loopwise.projects import service as projects
from loopwise.projects.models import Project
from loopwise.registry import evaluations, lineage, service
from loopwise.registry.charts import (
    KIND_NAMES,
    KINDS,
    layout,
    lineage_diagram,
    weekly_bars,
)
from loopwise.registry.lineage import Lineage, Node
from loopwise.registry.models import TRANSITIONS, Stage, StageEvent
from loopwise.registry.schemas import (
    IncidentCreate,
    ModelCreate,
    RollbackIn,
    StageChange,
    VersionCreate,
)
from loopwise.tracking import service as tracking
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    Panel,
    pick,
    redirect,
    render,
    validation_messages,
)

router = APIRouter(include_in_schema=False)

CANARY_SHARES = (("0.01", "1%"), ("0.1", "10%"), ("0.5", "50%"))
WINDOWS = (30, 90, 180, 365)
RUN_CHOICES = 100
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
# The moves offered as buttons, per current stage (production is left by rollback or by
# promoting another version; canary -> canary changes the traffic share).
OFFERED: dict[Stage, tuple[Stage, ...]] = {
    Stage.NONE: (Stage.STAGING, Stage.CANARY, Stage.ARCHIVED),
    Stage.STAGING: (Stage.CANARY, Stage.PRODUCTION, Stage.ARCHIVED),
    Stage.CANARY: (Stage.CANARY, Stage.PRODUCTION, Stage.STAGING, Stage.ARCHIVED),
    Stage.PRODUCTION: (),
    Stage.ARCHIVED: (Stage.STAGING,),
}
assert all(to in TRANSITIONS[at] or to is at for at, tos in OFFERED.items() for to in tos)


def _role(caller: Caller, project: Project) -> Role | None:
    with caller.read() as ctx:
        return accounts.role_in(ctx.session, ctx.actor, project.id)


def _allows(role: Role | None, needed: Role) -> bool:
    return role is not None and role.allows(needed)


def _model_url(name: str, version: int | None = None) -> str:
    return f"/models/{quote(name, safe='')}" + (f"#v{version}" if version else "")


# --- models of a project -----------------------------------------------------------------


def _models_page(
    request: Request,
    caller: Caller,
    key: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        models = service.list_models(ctx, project.key)
    return render(
        request,
        "registry/models.html",
        {
            "nav": "projects",
            "project": project,
            "models": models,
            "can_create": _allows(role, Role.CONTRIBUTOR),
            "role": role,
            "values": values or {},
            "errors": errors or [],
            "form_open": bool(errors) or not models,
        },
        status=status,
    )


@router.get("/projects/{key}/models")
def models_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _models_page(request, caller, key)


@router.post("/projects/{key}/models")
def create_model(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("name", "description"))
    with caller.read() as ctx:  # the role check first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
    try:
        body = ModelCreate.model_validate(values)
    except ValidationError as exc:
        errors = validation_messages(exc, {"name": "Name", "description": "Description"})
        return _models_page(request, caller, project.key, values=values, errors=errors, status=400)
    try:
        with caller.write() as ctx:
            model = service.create_model(ctx, project.key, body.name, body.description)
    except (InvalidInput, Conflict) as exc:
        return _models_page(
            request,
            caller,
            project.key,
            values=values,
            errors=[exc.message],
            status=exc.http_status,
        )
    return redirect(_model_url(model.name))


# --- one model ---------------------------------------------------------------------------


def _rollback_target(history: list[StageEvent], current: int | None) -> int | None:
    """The version a rollback would return to: the last other one promoted to production."""
    if current is None:
        return None
    for event in reversed(history):
        if event.to_stage is Stage.PRODUCTION and event.version != current:
            return event.version
    return None


def _model_page(
    request: Request,
    caller: Caller,
    name: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        model = service.get_model(ctx, name)
        project = projects.resolve_project(ctx, model.project_key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        versions = service.list_versions(ctx, model.name)
        history = service.stage_history(ctx, model.name)
        checks = {
            v.version: service.promotion_report(ctx, model.name, v.version)
            for v in versions
            if v.stage in (Stage.NONE, Stage.STAGING, Stage.CANARY)
        }
        sources = {
            r.id: r for r in tracking.runs_by_ids(ctx, [v.run_id for v in versions if v.run_id])
        }
        runs = tracking.list_runs(ctx, project.key, limit=RUN_CHOICES)
        # Where each version's lineage starts: its newest deployment, else its run's data.
        lineage_of: dict[int, str] = {}
        for d in service.list_deployments(ctx, project.key):  # newest first
            if d.model == model.name:
                lineage_of.setdefault(d.version, f"/lineage/deployments/{d.id}")
        used = {u.run_id: u.version_id for u in data.datasets_of_runs(ctx, list(sources))}
        for v in versions:
            if v.run_id in used:
                lineage_of.setdefault(v.version, f"/lineage/dataset-versions/{used[v.run_id]}")
        evals = [e for e in evaluations.list_for_project(ctx, project.key) if e.model == model.name]
        comparison, hint, compared_on = None, "", ""
        try:
            comparison = evaluations.champion_vs_challenger(ctx, model.name)
            on = data.get_version(ctx, comparison.dataset_version_id)
            compared_on = f"{on.dataset} v{on.version}"
        except NotFound as exc:
            hint = exc.message
        # What other slices show about this model (gates, explanations, ...): get_model
        # checked the access to it
        panels = [p for panel in ctx.hooks.model_panels if (p := panel(ctx, model, versions))]
    metric_keys = sorted({k for v in versions for k in v.metrics})[:6]
    return render(
        request,
        "registry/model.html",
        {
            "nav": "projects",
            "project": project,
            "model": model,
            "versions": versions,
            "history": list(reversed(history)),
            "checks": checks,
            "sources": sources,
            "lineage_of": lineage_of,
            "runs": runs,
            "evaluations": evals,
            "comparison": comparison,
            "comparison_hint": hint,
            "compared_on": compared_on,
            "metric_keys": metric_keys,
            "panels": panels,
            "offered": OFFERED,
            "shares": CANARY_SHARES,
            "rollback_to": _rollback_target(history, model.production_version),
            "can_edit": _allows(role, Role.CONTRIBUTOR),
            "can_deploy": _allows(role, Role.MAINTAINER),
            "role": role,
            "values": values or {},
            "errors": errors or [],
        },
        status=status,
    )


@router.get("/models/{name}")
def model_page(name: str, request: Request, caller: PageCaller) -> Response:
    return _model_page(request, caller, name)


@router.get("/model-versions/{version_id}")
def model_version_page(version_id: str, caller: PageCaller) -> Response:
    """Model versions live on their model's page; lineage boxes link here by id."""
    with caller.read() as ctx:
        version = service.version_by_id(ctx, version_id)
    return redirect(_model_url(version.model, version.version))


def _model_name(caller: Caller, name: str, needed: Role = Role.CONTRIBUTOR) -> str:
    """Resolve the model and check the role before reading the form (403 before 400)."""
    with caller.read() as ctx:
        model = service.get_model(ctx, name)
        projects.resolve_project(ctx, model.project_key, needed)
    return model.name


def _refused(
    request: Request, caller: Caller, name: str, values: dict[str, str], exc: Exception
) -> Response:
    if isinstance(exc, ValidationError):
        labels = {
            "run_id": "Source run",
            "source": "Source",
            "stage": "Stage",
            "traffic_share": "Traffic share",
            "reason": "Reason",
            "description": "Description",
        }
        return _model_page(
            request,
            caller,
            name,
            values=values,
            errors=validation_messages(exc, labels),
            status=400,
        )
    assert isinstance(exc, InvalidInput | Conflict)
    return _model_page(
        request, caller, name, values=values, errors=[exc.message], status=exc.http_status
    )


@router.post("/models/{name}/versions")
def create_version(name: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("run_id", "source", "description"))
    name = _model_name(caller, name)
    if not values["run_id"] and not values["source"]:
        return _model_page(
            request,
            caller,
            name,
            values=values,
            errors=["Source run: choose the run that trained this version"],
            status=400,
        )
    try:
        body = VersionCreate.model_validate({**values, "run_id": values["run_id"] or None})
        with caller.write() as ctx:
            version = service.create_version(
                ctx, name, run_id=body.run_id, source=body.source, description=body.description
            )
    except NotFound:
        return _model_page(
            request,
            caller,
            name,
            values=values,
            errors=[f"Source run: no run {values['run_id']!r} in this project"],
            status=400,
        )
    except (ValidationError, InvalidInput, Conflict) as exc:
        return _refused(request, caller, name, values, exc)
    return redirect(_model_url(name, version.version))


@router.post("/models/{name}/versions/{version}/stage")
def change_stage(
    name: str, version: int, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    values = pick(form, ("stage", "traffic_share", "reason"))
    name = _model_name(caller, name)
    raw: dict[str, Any] = {
        "stage": values["stage"],
        "traffic_share": values["traffic_share"] or None,
        "reason": values["reason"],
    }
    try:
        body = StageChange.model_validate(raw)
    except ValidationError as exc:
        return _refused(request, caller, name, values, exc)
    try:
        with caller.write() as ctx:
            service.transition(
                ctx,
                name,
                version,
                body.stage,
                traffic_share=body.traffic_share,
                reason=body.reason,
            )
    except (InvalidInput, Conflict) as exc:
        message = f"v{version} → {body.stage.value}: {exc.message}"
        return _model_page(
            request, caller, name, values=values, errors=[message], status=exc.http_status
        )
    return redirect(_model_url(name, version))


@router.post("/models/{name}/aliases")
def set_alias(name: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("alias", "version"))
    name = _model_name(caller, name)
    errors = []
    if not values["alias"]:
        errors.append("Alias: required")
    try:
        number = int(values["version"])
    except ValueError:
        errors.append("Version: choose a version")
        number = 0
    if errors:
        return _model_page(request, caller, name, values=values, errors=errors, status=400)
    try:
        with caller.write() as ctx:
            service.set_alias(ctx, name, values["alias"], number)
    except (InvalidInput, Conflict) as exc:
        return _refused(request, caller, name, values, exc)
    except NotFound as exc:
        return _model_page(
            request, caller, name, values=values, errors=[f"Version: {exc.message}"], status=400
        )
    return redirect(_model_url(name, number))


@router.post("/models/{name}/rollback")
def rollback(name: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("reason",))
    name = _model_name(caller, name, Role.MAINTAINER)
    try:
        body = RollbackIn.model_validate(values)
        with caller.write() as ctx:
            restored = service.rollback(ctx, name, body.reason)
    except (ValidationError, InvalidInput, Conflict) as exc:
        return _refused(request, caller, name, values, exc)
    return redirect(_model_url(name, restored.version))


# --- delivery: deployments, incidents, metrics -------------------------------------------


def _delivery_page(
    request: Request,
    caller: Caller,
    key: str,
    *,
    days: int = 90,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        metrics = service.delivery_metrics(ctx, project.key, days=days)
        deployments = service.list_deployments(ctx, project.key)
        incidents = service.list_incidents(ctx, project.key)
    deployments.sort(key=lambda d: d.ended_at is not None)  # active first; stable
    incidents.sort(key=lambda i: i.resolved_at is not None)
    return render(
        request,
        "registry/delivery.html",
        {
            "nav": "projects",
            "project": project,
            "metrics": metrics,
            "chart": weekly_bars(metrics.weekly_deployments),
            "deployments": deployments,
            "by_id": {d.id: d for d in deployments},
            "incidents": incidents,
            "days": days,
            "windows": WINDOWS,
            "severities": SEVERITIES,
            "can_edit": _allows(role, Role.CONTRIBUTOR),
            "role": role,
            "values": values or {"severity": "sev3"},
            "errors": errors or [],
            "now": caller.state.clock.now(),
        },
        status=status,
    )


@router.get("/projects/{key}/delivery")
def delivery_page(
    key: str,
    request: Request,
    caller: PageCaller,
    days: Annotated[int, Query(ge=7, le=3650)] = 90,
) -> Response:
    return _delivery_page(request, caller, key, days=days)


@router.post("/projects/{key}/incidents")
def open_incident(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("title", "severity", "deployment_id", "notes"))
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
    labels = {"title": "Title", "severity": "Severity", "deployment_id": "Deployment"}
    try:
        body = IncidentCreate.model_validate(
            {**values, "severity": values["severity"] or "sev3"}
            | {"deployment_id": values["deployment_id"] or None}
        )
        with caller.write() as ctx:
            service.open_incident(
                ctx,
                project.key,
                body.title,
                severity=body.severity,
                deployment_id=body.deployment_id,
                notes=body.notes,
            )
    except ValidationError as exc:
        errors = validation_messages(exc, labels)
        errors = [
            "Severity: choose sev1 to sev4" if e.startswith("Severity:") else e for e in errors
        ]
        return _delivery_page(
            request, caller, project.key, values=values, errors=errors, status=400
        )
    except (InvalidInput, Conflict, NotFound) as exc:
        status = 400 if isinstance(exc, NotFound) else exc.http_status
        return _delivery_page(
            request, caller, project.key, values=values, errors=[exc.message], status=status
        )
    return redirect(f"/projects/{project.key}/delivery#incidents")


@router.post("/incidents/{incident_id}/resolve")
def resolve_incident(
    incident_id: str, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    try:
        with caller.write() as ctx:
            incident = service.resolve_incident(ctx, incident_id, form.get("notes", ""))
    except Conflict as exc:  # resolved already (a second tab): show the page with the message
        if not form.get("project"):
            raise
        return _delivery_page(
            request, caller, form["project"], errors=[exc.message], status=exc.http_status
        )
    return redirect(f"/projects/{incident.project_key}/delivery#incidents")


# --- lineage -----------------------------------------------------------------------------


def _href(node: Node) -> str | None:
    return {
        "dataset_version": f"/datasets/versions/{node.id}",
        "run": f"/runs/{node.id}",
        "model_version": f"/model-versions/{node.id}",
        "deployment": f"/lineage/deployments/{node.id}",
    }.get(node.kind)


def _lineage_page(
    request: Request, graph: Lineage, project: Project, title: str, back: tuple[str, str]
) -> Response:
    nodes = {n.id: n for n in graph.nodes}
    placed, _width, _height = layout(graph)
    return render(
        request,
        "registry/lineage.html",
        {
            "nav": "projects",
            "project": project,
            "graph": graph,
            # Table rows in diagram order: from the data towards the deployments.
            "edges": sorted(graph.edges, key=lambda e: KINDS.index(nodes[e.source].kind)),
            "title": title,
            "back": back,
            "diagram": lineage_diagram(graph, _href),
            "nodes": nodes,
            "ordered": [p.node for p in placed],  # the items table in diagram order
            "href": _href,
            "kind_names": KIND_NAMES,
        },
    )


@router.get("/lineage/dataset-versions/{version_id}")
def dataset_lineage(version_id: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        graph = lineage.from_dataset_version(ctx, version_id)
        version = data.get_version(ctx, version_id)
        project = projects.resolve_project(ctx, version.project_key)
    label = f"{version.dataset} v{version.version}"
    return _lineage_page(
        request,
        graph,
        project,
        f"Lineage of {label}",
        (label, f"/datasets/versions/{version.id}"),
    )


@router.get("/lineage/deployments/{deployment_id}")
def deployment_lineage(deployment_id: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        graph = lineage.from_deployment(ctx, deployment_id)
        deployment, _version = service.deployment_source(ctx, deployment_id)
        project = projects.resolve_project(ctx, deployment.project_key)
    label = f"{deployment.model} v{deployment.version} in {deployment.environment}"
    return _lineage_page(
        request,
        graph,
        project,
        f"Lineage of deployment {label}",
        ("Delivery", f"/projects/{project.key}/delivery"),
    )


# --- evaluations -------------------------------------------------------------------------


@router.get("/evaluations/{evaluation_id}")
def evaluation_page(evaluation_id: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        record = evaluations.get(ctx, evaluation_id)
        project = projects.resolve_project(ctx, record.project_key)
        dataset = (
            data.get_version(ctx, record.dataset_version_id) if record.dataset_version_id else None
        )
        run = tracking.get_run(ctx, record.run_id) if record.run_id else None
    ev = record.evaluation
    largest = max((max(row) for row in ev.confusion), default=0)
    # Interval bars share one scale from a round number below the lowest bound up to 1,
    # so narrow intervals near 1 stay visible; only metrics within [0, 1] get a bar.
    bounded = [
        m
        for m in ev.metrics
        if m.low is not None and m.high is not None and 0 <= m.low <= m.high <= 1
    ]
    floor = min((min(m.low or 0.0, m.value) for m in bounded), default=0.0)
    scale_low = min(max(0.0, math.floor(floor * 10) / 10), 0.9)
    slice_metrics = [m.name for m in ev.slices[0].metrics] if ev.slices else []
    return render(
        request,
        "registry/evaluation.html",
        {
            "nav": "projects",
            "project": project,
            "record": record,
            "ev": ev,
            "dataset": dataset,
            "run": run,
            "largest": largest,
            "slice_metrics": slice_metrics,
            "bounded": {m.name for m in bounded},
            "scale_low": scale_low,
            "model_url": _model_url(record.model, record.version) if record.model else None,
        },
    )


def dataset_panel(ctx: Context, version: DatasetVersion) -> Panel | None:
    """Evaluations recorded on a dataset version, on the version's page (declared in
    registry.SLICE)."""
    found = [
        e
        for e in evaluations.list_for_project(ctx, version.project_key)
        if e.dataset_version_id == version.id
    ]
    return Panel("registry/dataset_panel.html", {"evaluations": found}) if found else None
