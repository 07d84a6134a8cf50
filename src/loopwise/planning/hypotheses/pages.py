"""Hypothesis pages: the list with verdicts, the form, and each hypothesis's record."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.planning.board import pages as board_pages
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.planning.items import service
from loopwise.projects import service as projects
from loopwise.projects.models import Comparator, Phase
from loopwise.tracking.models import Run
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    Panel,
    optional,
    pick,
    redirect,
    render,
    validation_messages,
)

router = APIRouter(include_in_schema=False)


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
        # What slices above planning show about it (models built from its runs and the
        # retraining their monitors filed): get_hypothesis checked the access to it
        panels = [p for hook in ctx.hooks.hypothesis_panels if (p := hook(ctx, h)) is not None]
    return render(
        request,
        "planning/hypothesis.html",
        {
            "nav": "projects",
            "h": h,
            "project": project,
            "history": history,
            "run_names": {e.run_id: e.run_name for e in h.evidence},
            "panels": panels,
            **panel,
        },
    )


def run_panel(ctx: Context, run: Run) -> Panel | None:
    """The run's place in the plan on its page (declared in planning.SLICE): the
    hypotheses it is evidence for, and tagged keys that are not linked, with why."""
    links = hypotheses.plan_links(ctx, run.id, run.tags)
    return Panel("planning/run_panel.html", {"links": links}) if links else None
