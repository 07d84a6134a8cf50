"""Server-rendered pages for planning: projects, charters, phases, hypotheses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.planning import board_pages, hypotheses, raci, service
from loopwise.planning.models import RaciEntry, RaciRole, Verdict
from loopwise.planning.schemas import HypothesisCreate
from loopwise.projects import service as projects
from loopwise.projects.models import Comparator, Phase
from loopwise.projects.schemas import ProjectCreate, ProjectUpdate
from loopwise.tracking import service as tracking
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    optional,
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
HYPOTHESIS_FIELDS = (
    "title",
    "statement",
    "metric_key",
    "comparator",
    "threshold",
    "baseline",
    "time_box_end",
    "kill_criterion",
    "kill_after_runs",
)
HYPOTHESIS_LABELS = {
    "title": "Title",
    "statement": "Statement",
    "metric_key": "Metric key",
    "comparator": "Comparator",
    "threshold": "Threshold",
    "baseline": "Baseline",
    "time_box_end": "Time-box end",
    "kill_criterion": "Kill criterion",
    "kill_after_runs": "Kill after N runs",
}


def _choices() -> dict[str, Any]:
    return {"phases": list(Phase), "comparators": list(Comparator)}


# --- projects ----------------------------------------------------------------------------


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


def raci_table(entries: list[RaciEntry]) -> dict[str, Any]:
    """Deliverables as rows, people as columns, R/A/C/I in the cells."""
    return {
        "deliverables": list(dict.fromkeys(e.deliverable for e in entries)),
        "people": sorted({e.person for e in entries}, key=str.lower),
        "cells": {(e.deliverable, e.person): e.role.value for e in entries},
    }


def raci_form(entries: list[RaciEntry], deliverable: str) -> dict[str, str]:
    """The RACI form filled in with one deliverable's assignments (for editing)."""
    values = {"deliverable": deliverable} | {r.value: "" for r in RaciRole}
    for role in RaciRole:
        names = [e.person for e in entries if e.deliverable == deliverable and e.role is role]
        values[role.value] = ", ".join(names)
    return values


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


# --- hypotheses --------------------------------------------------------------------------


def _hypotheses_page(
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
        items = hypotheses.list_hypotheses(ctx, project.key)
    return render(
        request,
        "planning/hypotheses.html",
        {
            "nav": "projects",
            "project": project,
            "hypotheses": items,
            "can_add": role is not None and role.allows(Role.CONTRIBUTOR),
            "role": role,
            "values": values or {"comparator": ">="},
            "errors": errors or [],
            "form_open": bool(errors) or not items,
            "today": caller.state.clock.now().date().isoformat(),
            **_choices(),
        },
        status=status,
    )


@router.get("/projects/{key}/hypotheses")
def hypotheses_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _hypotheses_page(request, caller, key)


def _end_of_day(text: str, today: date) -> tuple[datetime | None, str | None]:
    """A time-box end date from the form: the end of that day, UTC."""
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, f"Time-box end: {text!r} is not a date (use YYYY-MM-DD)"
    if day < today:
        return None, f"Time-box end: {day.isoformat()} is in the past"
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC), None


def _hypothesis_input(
    values: dict[str, str], today: date
) -> tuple[HypothesisCreate | None, list[str]]:
    end, problem = _end_of_day(values["time_box_end"], today)
    raw = {
        "title": values["title"],
        "statement": values["statement"],
        "metric_key": values["metric_key"],
        "comparator": values["comparator"] or ">=",
        "threshold": values["threshold"],
        "baseline": optional(values["baseline"]),
        "time_box_end": end,
        "kill_criterion": values["kill_criterion"],
        "kill_after_runs": optional(values["kill_after_runs"]),
    }
    errors = [problem] if problem else []
    try:
        data = HypothesisCreate.model_validate(raw)
    except ValidationError as exc:
        return None, errors + validation_messages(exc, HYPOTHESIS_LABELS)
    return (None if errors else data), errors


@router.post("/projects/{key}/hypotheses")
def create_hypothesis(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, HYPOTHESIS_FIELDS)
    with caller.read() as ctx:  # the role check first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
    data, errors = _hypothesis_input(values, caller.state.clock.now().date())
    if data is None:
        return _hypotheses_page(
            request, caller, project.key, values=values, errors=errors, status=400
        )
    try:
        with caller.write() as ctx:
            created = hypotheses.create_hypothesis(ctx, project.key, data)
    except (InvalidInput, Conflict) as exc:
        return _hypotheses_page(
            request,
            caller,
            project.key,
            values=values,
            errors=[exc.message],
            status=exc.http_status,
        )
    return redirect(f"/hypotheses/{created.item.key}")


@router.get("/hypotheses/{item_key}")
def hypothesis_page(item_key: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        h = hypotheses.get_hypothesis(ctx, item_key)
        project = projects.resolve_project(ctx, h.item.project_key)
        history = service.item_history(ctx, h.item.key)
        panel = board_pages.item_panel(ctx, h.item, project)
    return render(
        request,
        "planning/hypothesis.html",
        {
            "nav": "projects",
            "h": h,
            "project": project,
            "history": history,
            "run_names": {e.run_id: e.run_name for e in h.evidence},
            **panel,
        },
    )
