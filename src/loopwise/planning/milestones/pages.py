"""Milestone pages: the list with forecasts, the form, and each milestone."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.planning.board import service as board
from loopwise.planning.flow.pages import TRIALS, finished, when_histogram
from loopwise.planning.forms import item_keys
from loopwise.planning.items import service as planning
from loopwise.planning.milestones import service as milestones
from loopwise.planning.milestones.schemas import MilestoneCreate
from loopwise.projects import service as projects
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    pick,
    redirect,
    render,
    submit,
)

router = APIRouter(include_in_schema=False)


LIST_TRIALS = 2_000  # per milestone on the list page


MILESTONE_FIELDS = ("name", "target_date", "description", "items")


MILESTONE_LABELS = {
    "name": "Name",
    "target_date": "Target date",
    "description": "Description",
    "items": "Items",
}


def planning_role(ctx: Context, project_id: str) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project_id)


def _milestones_page(
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
        role = planning_role(ctx, project.id)
        rows = [
            (m, milestones.forecast(ctx, m.id, trials=LIST_TRIALS))
            for m in milestones.list_milestones(ctx, project.key)
        ]
    return render(
        request,
        "planning/milestones.html",
        {
            "nav": "projects",
            "project": project,
            "rows": rows,
            "today": caller.state.clock.now().date(),
            "can_add": role is not None and role.allows(Role.MAINTAINER),
            "values": values or {},
            "errors": errors or [],
            "form_open": bool(errors) or not rows,
        },
        status=status,
    )


@router.get("/projects/{key}/milestones")
def milestones_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _milestones_page(request, caller, key)


@router.post("/projects/{key}/milestones")
def create_milestone(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    values = pick(form, MILESTONE_FIELDS)

    def create(data: MilestoneCreate) -> str:
        with caller.write() as ctx:
            created = milestones.create_milestone(
                ctx,
                project.key,
                data.name,
                data.target_date,
                description=data.description,
                item_keys=data.items,
            )
        return f"/milestones/{created.id}"

    return submit(
        lambda: MilestoneCreate.model_validate(
            {
                "name": values["name"],
                "target_date": values["target_date"],
                "description": values["description"],
                "items": item_keys(values["items"]),
            }
        ),
        create,
        lambda errors: _milestones_page(
            request, caller, project.key, values=values, errors=errors, status=400
        ),
        labels=MILESTONE_LABELS,
        wording=lambda messages: [_date_hint(m) for m in messages],
    )


def _date_hint(message: str) -> str:
    """Pydantic's date wording, said for a form."""
    if message.startswith("Target date:") and "required" not in message:
        return "Target date: use a date like 2026-03-31"
    return message


def _milestone_page(
    request: Request,
    caller: Caller,
    milestone_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        result = milestones.forecast(ctx, milestone_id, trials=TRIALS)
        m = result.milestone
        project = projects.resolve_project(ctx, m.project_key)
        role = planning_role(ctx, project.id)
        columns = board.columns_of(ctx, project.id)
        wanted = set(m.item_keys)
        items = [i for i in planning.list_items(ctx, project.key) if i.key in wanted]
    today = caller.state.clock.now().date()
    categories = {c.key: c.category for c in columns}
    fc = result.forecast
    return render(
        request,
        "planning/milestone.html",
        {
            "nav": "projects",
            "project": project,
            "m": m,
            "result": result,
            "today": today,
            "items": items,
            "done": {i.key for i in items if finished(i, categories)},
            "names": {c.key: c.name for c in columns},
            "chart": when_histogram(fc, today, m.target_date) if fc else None,
            "can_add": role is not None and role.allows(Role.CONTRIBUTOR),
            "values": values or {},
            "errors": errors or [],
        },
        status=status,
    )


@router.get("/milestones/{milestone_id}")
def milestone_page(milestone_id: str, request: Request, caller: PageCaller) -> Response:
    return _milestone_page(request, caller, milestone_id)


@router.post("/milestones/{milestone_id}/items")
def add_milestone_items(
    milestone_id: str, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    values = pick(form, ("items",))
    keys = item_keys(values["items"])
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        m = milestones.get_milestone(ctx, milestone_id)
        projects.resolve_project(ctx, m.project_key, Role.CONTRIBUTOR)
    if not keys:
        return _milestone_page(
            request, caller, milestone_id, values=values, errors=["Items: required"], status=400
        )
    try:
        with caller.write() as ctx:
            milestones.add_items(ctx, milestone_id, keys)
    except (InvalidInput, NotFound) as exc:
        return _milestone_page(
            request, caller, milestone_id, values=values, errors=[exc.message], status=400
        )
    return redirect(f"/milestones/{milestone_id}")
