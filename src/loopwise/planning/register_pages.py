"""Server-rendered pages for cycles, the risk register, RACI assignments and the
portfolio across projects."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.planning import board, cycles, hypotheses, portfolio, raci, risks
from loopwise.planning import service as planning
from loopwise.planning.flow_pages import item_keys
from loopwise.planning.models import ColumnCategory, RaciRole, RiskCategory, RiskStatus, risk_level
from loopwise.planning.pages import project_page_response
from loopwise.planning.schemas import CycleCreate, RiskCreate, RiskUpdate
from loopwise.projects import service as projects
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

PICKABLE = 60  # unfinished items offered as tick boxes when planning a cycle


def _role(ctx: Context, project_id: str) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project_id)


def _allows(role: Role | None, needed: Role) -> bool:
    return role is not None and role.allows(needed)


def _friendly(messages: list[str], dates: tuple[str, ...], scores: tuple[str, ...]) -> list[str]:
    """Pydantic's wording for dates and 1-5 scores, said for a form."""
    out = []
    for message in messages:
        label, _, text = message.partition(": ")
        if label in dates and text != "required":
            text = "use a date like 2026-03-31"
        elif label in scores and text != "required":
            text = "use a whole number from 1 to 5"
        out.append(f"{label}: {text}")
    return out


# --- cycles ----------------------------------------------------------------------------------

CYCLE_FIELDS = ("goal", "name", "starts_on", "days")
CYCLE_LABELS = {"goal": "Goal", "name": "Name", "starts_on": "Starts on", "days": "Length (days)"}


def _cycles_page(
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
        role = _role(ctx, project.id)
        rows = cycles.list_cycles(ctx, project.key)
    return render(
        request,
        "planning/cycles.html",
        {
            "nav": "projects",
            "project": project,
            "cycles": rows,
            "today": caller.state.clock.now().date(),
            "can_add": _allows(role, Role.MAINTAINER),
            "values": values or {},
            "errors": errors or [],
            "form_open": bool(errors) or not rows,
        },
        status=status,
    )


@router.get("/projects/{key}/cycles")
def cycles_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _cycles_page(request, caller, key)


@router.post("/projects/{key}/cycles")
def create_cycle(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    values = pick(form, CYCLE_FIELDS)
    try:
        data = CycleCreate.model_validate(
            {
                "goal": values["goal"],
                "name": optional(values["name"]),
                "starts_on": optional(values["starts_on"]),
                "days": optional(values["days"]),
            }
        )
    except ValidationError as exc:
        errors = _friendly(validation_messages(exc, CYCLE_LABELS), ("Starts on",), ())
        return _cycles_page(request, caller, project.key, values=values, errors=errors, status=400)
    try:
        with caller.write() as ctx:
            cycle = cycles.create_cycle(
                ctx,
                project.key,
                goal=data.goal,
                name=data.name,
                starts_on=data.starts_on,
                days=data.days,
            )
    except (InvalidInput, Conflict) as exc:
        return _cycles_page(
            request, caller, project.key, values=values, errors=[exc.message], status=400
        )
    return redirect(f"/projects/{project.key}/cycles/{cycle.number}")


def _cycle_page(
    request: Request,
    caller: Caller,
    key: str,
    number: int,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        report = cycles.report(ctx, project.key, number)
        role = _role(ctx, project.id)
        columns = board.columns_of(ctx, project.id)
        items = planning.list_items(ctx, project.key)
        verdicts = {h.item.key: h.verdict for h in hypotheses.list_hypotheses(ctx, project.key)}
    planned = set(report.planned)
    categories = {c.key: c.category for c in columns}
    unfinished = (ColumnCategory.TODO, ColumnCategory.STARTED)
    open_items = [
        i
        for i in items
        if i.key not in planned and categories.get(i.status, ColumnCategory.TODO) in unfinished
    ]
    outcome = {k: "done" for k in report.done} | {k: "killed" for k in report.killed}
    outcome |= {k: "carry-over" for k in report.carry_over}
    return render(
        request,
        "planning/cycle.html",
        {
            "nav": "projects",
            "project": project,
            "report": report,
            "cycle": report.cycle,
            "today": caller.state.clock.now().date(),
            "items": [i for i in items if i.key in planned],
            "outcome": outcome,
            "verdicts": verdicts,
            "names": {c.key: c.name for c in columns},
            "pickable": open_items[:PICKABLE],
            "more_pickable": max(len(open_items) - PICKABLE, 0),
            "can_plan": _allows(role, Role.CONTRIBUTOR),
            "values": values or {},
            "errors": errors or [],
        },
        status=status,
    )


@router.get("/projects/{key}/cycles/{number}")
def cycle_page(key: str, number: int, request: Request, caller: PageCaller) -> Response:
    return _cycle_page(request, caller, key, number)


@router.post("/projects/{key}/cycles/{number}/items")
def plan_items(
    key: str, number: int, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
        cycles.report(ctx, project.key, number)  # 404 for a missing cycle, before the form
    values = pick(form, ("items",))
    keys = item_keys(values["items"])
    keys += [v.upper() for n, v in form.items() if n.startswith("pick-") and v.upper() not in keys]
    if not keys:
        errors = ["Items: tick items or type their keys"]
        return _cycle_page(
            request, caller, project.key, number, values=values, errors=errors, status=400
        )
    try:
        with caller.write() as ctx:
            cycles.plan_items(ctx, project.key, number, keys)
    except (InvalidInput, NotFound) as exc:
        return _cycle_page(
            request, caller, project.key, number, values=values, errors=[exc.message], status=400
        )
    return redirect(f"/projects/{project.key}/cycles/{number}")


@router.post("/projects/{key}/cycles/{number}/items/{item_key}/remove")
def unplan_item(
    key: str, number: int, item_key: str, caller: PageCaller, form: FormDep
) -> Response:
    with caller.write() as ctx:
        cycle = cycles.unplan_item(ctx, key, number, item_key)
    return redirect(f"/projects/{cycle.project_key}/cycles/{number}")


# --- risks -----------------------------------------------------------------------------------

RISK_FIELDS = (
    "title",
    "category",
    "likelihood",
    "impact",
    "residual_likelihood",
    "residual_impact",
    "owner",
    "mitigation",
    "description",
    "next_review",
    "items",
    "status",
)
RISK_LABELS = {
    "title": "Title",
    "category": "Category",
    "likelihood": "Likelihood",
    "impact": "Impact",
    "residual_likelihood": "Residual likelihood",
    "residual_impact": "Residual impact",
    "owner": "Owner",
    "mitigation": "Mitigation",
    "description": "Description",
    "next_review": "Next review",
    "items": "Linked items",
    "status": "Status",
}
SCORES = ("Likelihood", "Impact", "Residual likelihood", "Residual impact")
SCALE = (
    (1, "rare"),
    (2, "unlikely"),
    (3, "possible"),
    (4, "likely"),
    (5, "almost certain"),
)
IMPACTS = ((1, "negligible"), (2, "minor"), (3, "moderate"), (4, "major"), (5, "severe"))


def _risk_raw(values: dict[str, str]) -> dict[str, Any]:
    return {
        "title": values["title"],
        "category": values["category"],
        "likelihood": values["likelihood"],
        "impact": values["impact"],
        "residual_likelihood": optional(values["residual_likelihood"]),
        "residual_impact": optional(values["residual_impact"]),
        "owner": values["owner"],
        "mitigation": values["mitigation"],
        "description": values["description"],
        "next_review": optional(values["next_review"]),
    }


def _choices() -> dict[str, Any]:
    return {
        "categories": list(RiskCategory),
        "statuses": list(RiskStatus),
        "likelihoods": SCALE,
        "impacts": IMPACTS,
    }


def _risks_page(
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
        role = _role(ctx, project.id)
        register = risks.list_risks(ctx, project.key)
    heat = risks.heat_map(register)
    return render(
        request,
        "planning/risks.html",
        {
            "nav": "projects",
            "project": project,
            "risks": register,
            "heat": heat,
            "level_of": lambda likelihood, impact: risk_level(likelihood * impact),
            "can_add": _allows(role, Role.CONTRIBUTOR),
            "values": values or {"category": RiskCategory.DATA.value},
            "errors": errors or [],
            "form_open": bool(errors) or not register,
            **_choices(),
        },
        status=status,
    )


@router.get("/projects/{key}/risks")
def risks_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _risks_page(request, caller, key)


@router.post("/projects/{key}/risks")
def create_risk(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
    values = pick(form, RISK_FIELDS)
    try:
        data = RiskCreate.model_validate({**_risk_raw(values), "items": item_keys(values["items"])})
    except ValidationError as exc:
        errors = _friendly(validation_messages(exc, RISK_LABELS), ("Next review",), SCORES)
        return _risks_page(request, caller, project.key, values=values, errors=errors, status=400)
    try:
        with caller.write() as ctx:
            risks.create_risk(
                ctx, project.key, **data.model_dump(exclude={"items"}), item_keys=data.items
            )
    except (InvalidInput, NotFound) as exc:
        return _risks_page(
            request, caller, project.key, values=values, errors=[exc.message], status=400
        )
    return redirect(f"/projects/{project.key}/risks")


def _risk_page(
    request: Request,
    caller: Caller,
    risk_key: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        risk = risks.get_risk(ctx, risk_key)
        project = projects.resolve_project(ctx, risk.project_key)
        role = _role(ctx, project.id)
        items = {i.key: i for i in planning.list_items(ctx, project.key) if i.key in risk.item_keys}
    if values is None:
        values = {
            name: "" if getattr(risk, name, None) is None else str(getattr(risk, name))
            for name in RISK_FIELDS
            if name != "items"
        }
        values |= {"category": risk.category.value, "status": risk.status.value, "items": ""}
    return render(
        request,
        "planning/risk.html",
        {
            "nav": "projects",
            "project": project,
            "risk": risk,
            "items": items,
            "can_edit": _allows(role, Role.CONTRIBUTOR),
            "values": values,
            "errors": errors or [],
            **_choices(),
        },
        status=status,
    )


@router.get("/risks/{risk_key}")
def risk_page(risk_key: str, request: Request, caller: PageCaller) -> Response:
    return _risk_page(request, caller, risk_key)


@router.post("/risks/{risk_key}")
def update_risk(risk_key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        risk = risks.get_risk(ctx, risk_key)
        projects.resolve_project(ctx, risk.project_key, Role.CONTRIBUTOR)
    values = pick(form, RISK_FIELDS)
    try:
        data = RiskUpdate.model_validate({**_risk_raw(values), "status": values["status"]})
    except ValidationError as exc:
        errors = _friendly(validation_messages(exc, RISK_LABELS), ("Next review",), SCORES)
        return _risk_page(request, caller, risk.key, values=values, errors=errors, status=400)
    try:
        with caller.write() as ctx:
            risks.update_risk(ctx, risk.key, **data.model_dump())
            keys = item_keys(values["items"])
            if keys:
                risks.link_items(ctx, risk.key, keys)
    except (InvalidInput, NotFound) as exc:
        return _risk_page(
            request, caller, risk.key, values=values, errors=[exc.message], status=400
        )
    return redirect(f"/risks/{risk.key}")


# --- RACI ------------------------------------------------------------------------------------

RACI_FIELDS = ("deliverable", "R", "A", "C", "I")


def raci_people(values: dict[str, str]) -> tuple[dict[str, RaciRole], list[str]]:
    """The form's four name lists -> {person: role}; one role per person."""
    people: dict[str, RaciRole] = {}
    errors = []
    for role in RaciRole:
        for name in (n.strip() for n in re.split(r"[,;\n]+", values[role.value])):
            if not name:
                continue
            if name in people and people[name] is not role:
                errors.append(
                    f"{name} is listed as both {people[name].value} and {role.value}; "
                    "give each person one role"
                )
                continue
            people[name] = role
    return people, errors


@router.post("/projects/{key}/raci")
def set_raci(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    values = pick(form, RACI_FIELDS)
    people, errors = raci_people(values)
    if not errors:
        try:
            with caller.write() as ctx:
                raci.set_raci(ctx, project.key, values["deliverable"], people)
        except InvalidInput as exc:
            errors = [exc.message]
    if errors:
        return project_page_response(
            request, caller, project.key, raci_values=values, raci_errors=errors, status=400
        )
    return redirect(f"/projects/{project.key}#raci")


# --- portfolio -------------------------------------------------------------------------------


@router.get("/portfolio")
def portfolio_page(request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        rows = portfolio.portfolio(ctx)
    return render(
        request,
        "planning/portfolio.html",
        {"nav": "portfolio", "rows": rows, "today": caller.state.clock.now().date()},
    )
