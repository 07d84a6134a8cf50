"""The projects list and each project's page: charter, phase, RACI, hypotheses and recent
runs at a glance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.raci import service as raci
from loopwise.planning.raci.views import raci_form, raci_table
from loopwise.projects import service as projects
from loopwise.projects.models import Comparator, Phase
from loopwise.projects.schemas import ProjectCreate, ProjectUpdate
from loopwise.tracking import service as tracking
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    pick,
    redirect,
    render,
    validation_messages,
)

router = APIRouter(include_in_schema=False)


RECENT_RUNS = 10


PROJECT_FIELDS = ("key", "name", "problem", "phase", "metric_key", "comparator", "threshold")


PROJECT_LABELS = {
    "key": "Key",
    "name": "Name",
    "phase": "Phase",
    "charter.problem": "Problem statement",
    "charter.success_metric.key": "Success metric key",
    "charter.success_metric.comparator": "Success metric comparator",
    "charter.success_metric.threshold": "Success metric threshold",
}


def _choices() -> dict[str, Any]:
    return {"phases": list(Phase), "comparators": list(Comparator)}


def _projects_page(
    request: Request,
    caller: Caller,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        visible = projects.list_projects(ctx)
        ids = [p.id for p in visible]
        verdicts = hypotheses.verdict_counts(ctx, ids)
        runs = tracking.run_counts(ctx, ids)
    return render(
        request,
        "planning/projects.html",
        {
            "nav": "projects",
            "rows": [(p, verdicts[p.id], runs[p.id]) for p in visible],
            "values": values or {"phase": Phase.BUSINESS_UNDERSTANDING.value, "comparator": ">="},
            "errors": errors or [],
            "form_open": bool(errors) or not visible,
            **_choices(),
        },
        status=status,
    )


@router.get("/")
def projects_page(request: Request, caller: PageCaller) -> Response:
    return _projects_page(request, caller)


def _project_input(values: dict[str, str]) -> ProjectCreate:
    charter: dict[str, Any] = {"problem": values["problem"]}
    if values["metric_key"] or values["threshold"]:
        charter["success_metric"] = {
            "key": values["metric_key"],
            "comparator": values["comparator"] or ">=",
            "threshold": values["threshold"],
        }
    return ProjectCreate.model_validate(
        {
            "key": values["key"].upper(),  # the form is forgiving about case
            "name": values["name"],
            "phase": values["phase"] or Phase.BUSINESS_UNDERSTANDING.value,
            "charter": charter,
        }
    )


@router.post("/projects")
def create_project(request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, PROJECT_FIELDS)
    try:
        data = _project_input(values)
    except ValidationError as exc:
        errors = validation_messages(exc, PROJECT_LABELS)
        return _projects_page(request, caller, values=values, errors=errors, status=400)
    try:
        with caller.write() as ctx:
            project = projects.create_project(ctx, data)
    except (InvalidInput, Conflict) as exc:
        return _projects_page(
            request, caller, values=values, errors=[exc.message], status=exc.http_status
        )
    return redirect(f"/projects/{project.key}")


def project_page_response(
    request: Request,
    caller: Caller,
    key: str,
    *,
    deliverable: str = "",
    raci_values: dict[str, str] | None = None,
    raci_errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        items = hypotheses.list_hypotheses(ctx, project.key)
        runs = tracking.list_runs(ctx, project.key, limit=RECENT_RUNS)
        run_total = tracking.run_counts(ctx, [project.id])[project.id]
        entries = raci.list_raci(ctx, project.key)
    counts = dict.fromkeys(Verdict, 0)
    for h in items:
        counts[h.verdict] += 1
    is_maintainer = role is not None and role.allows(Role.MAINTAINER)
    return render(
        request,
        "planning/project.html",
        {
            "nav": "projects",
            "project": project,
            "can_change_phase": is_maintainer,
            "hypotheses": items,
            "counts": counts,
            "runs": runs,
            "run_total": run_total,
            "phases": list(Phase),
            "phase_index": list(Phase).index(project.phase),
            "raci": raci_table(entries),
            "can_set_raci": is_maintainer,
            "raci_values": raci_values or raci_form(entries, deliverable),
            "raci_errors": raci_errors or [],
            "raci_open": bool(raci_errors or deliverable),
        },
        status=status,
    )


@router.get("/projects/{key}")
def project_page(key: str, request: Request, caller: PageCaller, deliverable: str = "") -> Response:
    return project_page_response(request, caller, key, deliverable=deliverable.strip()[:200])


@router.post("/projects/{key}/phase")
def change_phase(key: str, caller: PageCaller, form: FormDep) -> Response:
    try:
        data = ProjectUpdate.model_validate({"phase": form.get("phase", "")})
    except ValidationError as exc:
        raise InvalidInput("; ".join(validation_messages(exc, {"phase": "Phase"}))) from exc
    with caller.write() as ctx:
        project = projects.update_project(ctx, key, data)
    return redirect(f"/projects/{project.key}")
