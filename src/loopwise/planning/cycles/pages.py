"""Cycle pages: the list, the form, and each cycle with its plan and report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.planning.board import service as board
from loopwise.planning.board.models import ColumnCategory
from loopwise.planning.cycles import service as cycles
from loopwise.planning.cycles.schemas import CycleCreate
from loopwise.planning.forms import allows, friendly, item_keys
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.items import service as planning
from loopwise.projects import service as projects
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    optional,
    pick,
    redirect,
    render,
    submit,
)

router = APIRouter(include_in_schema=False)


PICKABLE = 60  # unfinished items offered as tick boxes when planning a cycle


def _role(ctx: Context, project_id: str) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project_id)


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
            "can_add": allows(role, Role.MAINTAINER),
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

    def create(data: CycleCreate) -> str:
        with caller.write() as ctx:
            cycle = cycles.create_cycle(
                ctx,
                project.key,
                goal=data.goal,
                name=data.name,
                starts_on=data.starts_on,
                days=data.days,
            )
        return f"/projects/{project.key}/cycles/{cycle.number}"

    return submit(
        lambda: CycleCreate.model_validate(
            {
                "goal": values["goal"],
                "name": optional(values["name"]),
                "starts_on": optional(values["starts_on"]),
                "days": optional(values["days"]),
            }
        ),
        create,
        lambda errors: _cycles_page(
            request, caller, project.key, values=values, errors=errors, status=400
        ),
        labels=CYCLE_LABELS,
        wording=lambda messages: friendly(messages, ("Starts on",), ()),
    )


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
            "can_plan": allows(role, Role.CONTRIBUTOR),
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
