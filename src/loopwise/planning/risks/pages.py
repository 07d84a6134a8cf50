"""Risk register pages: the list with the heat map, the form, and each risk."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.planning.forms import allows, friendly, item_keys
from loopwise.planning.items import service as planning
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import RiskCategory, RiskStatus, risk_level
from loopwise.planning.risks.schemas import RiskCreate, RiskUpdate
from loopwise.projects import service as projects
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    optional,
    pick,
    render,
    submit,
)

router = APIRouter(include_in_schema=False)


def _role(ctx: Context, project_id: str) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project_id)


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


def _wording(messages: list[str]) -> list[str]:
    return friendly(messages, ("Next review",), SCORES)


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
            "can_add": allows(role, Role.CONTRIBUTOR),
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

    def create(data: RiskCreate) -> str:
        with caller.write() as ctx:
            risks.create_risk(ctx, project.key, data)
        return f"/projects/{project.key}/risks"

    return submit(
        lambda: RiskCreate.model_validate(
            {**_risk_raw(values), "items": item_keys(values["items"])}
        ),
        create,
        lambda errors: _risks_page(
            request, caller, project.key, values=values, errors=errors, status=400
        ),
        labels=RISK_LABELS,
        wording=_wording,
    )


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
            "can_edit": allows(role, Role.CONTRIBUTOR),
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

    def update(data: RiskUpdate) -> str:
        with caller.write() as ctx:
            risks.update_risk(ctx, risk.key, data)
            keys = item_keys(values["items"])
            if keys:
                risks.link_items(ctx, risk.key, keys)
        return f"/risks/{risk.key}"

    return submit(
        lambda: RiskUpdate.model_validate({**_risk_raw(values), "status": values["status"]}),
        update,
        lambda errors: _risk_page(
            request, caller, risk.key, values=values, errors=errors, status=400
        ),
        labels=RISK_LABELS,
        wording=_wording,
    )
