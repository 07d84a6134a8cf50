"""Server-rendered pages for flow and forecasting: the flow page (cumulative flow, cycle
time scatter, weekly throughput, aging work in progress), the forecast page ("when will
N items be done?", "how many by this date?", backtest) and milestones with their
forecast against the target date.

A forecast that the history cannot support (nothing finished yet, too short for a
backtest) is a notice on the page, not an error: the service's ``InvalidInput`` is shown
as it is. Only what the user typed can make a 400.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.numeric.flow import CumulativeFlow
from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning import board, flow, milestones
from loopwise.planning import charts as flow_charts
from loopwise.planning import service as planning
from loopwise.planning.models import ColumnCategory, WorkItem
from loopwise.planning.schemas import MilestoneCreate
from loopwise.projects import service as projects
from loopwise.web.deps import Caller
from loopwise.web.pages import FormDep, PageCaller, pick, redirect, render, validation_messages

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = flow.DEFAULT_WINDOW_DAYS
WEEK = timedelta(days=7)
HOW_MANY_DAYS = 14  # the "how many by" date offered first: two weeks from today
TRIALS = 10_000
LIST_TRIALS = 2_000  # per milestone on the list page
MILESTONE_FIELDS = ("name", "target_date", "description", "items")
MILESTONE_LABELS = {
    "name": "Name",
    "target_date": "Target date",
    "description": "Description",
    "items": "Items",
}


def whole(text: str, label: str, low: int, high: int, errors: list[str]) -> int | None:
    """A whole number typed into a form, or None with a message in ``errors``."""
    if text.isdigit() and len(text) <= 9 and low <= int(text) <= high:
        return int(text)
    errors.append(f"{label}: use a whole number from {low:,} to {high:,}")
    return None


def day(text: str, label: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}: {text!r} is not a date (use YYYY-MM-DD)")
        return None


def item_keys(text: str) -> list[str]:
    """``a-1, A-2 a-1`` -> ``["A-1", "A-2"]``: commas or spaces, any case, no repeats."""
    return list(dict.fromkeys(k.upper() for k in re.split(r"[\s,;]+", text) if k))


def finished(item: WorkItem, categories: dict[str, ColumnCategory]) -> bool:
    category = categories.get(item.status)
    return category is not None and category.finished


def active_part(cfd: CumulativeFlow, first: date) -> tuple[CumulativeFlow, date]:
    """The diagram from the first day any item existed (the whole of it if none did)."""
    start = next((i for i, row in enumerate(cfd.counts) if any(row)), 0)
    if start == 0:
        return cfd, first
    return CumulativeFlow(cfd.days[start:], cfd.statuses, cfd.counts[start:]), cfd.days[start]


# --- flow --------------------------------------------------------------------------------


@router.get("/projects/{key}/flow")
def flow_page(key: str, request: Request, caller: PageCaller, days: str = "") -> Response:
    errors: list[str] = []
    window = DEFAULT_DAYS
    if days.strip():
        window = whole(days.strip(), "Days", 1, 3650, errors) or DEFAULT_DAYS
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        report = flow.flow_report(ctx, project.key, days=window)
        columns = board.columns_of(ctx, project.id)
    p85 = report.cycle_time_percentiles.get(85)
    # Days before the first item existed are empty, not slow: the charts start later.
    cfd, since = active_part(report.cfd, report.first)
    weeks = [(monday, n) for monday, n in report.weekly_throughput if monday + WEEK > since]
    return render(
        request,
        "planning/flow.html",
        {
            "nav": "projects",
            "project": project,
            "report": report,
            "days": window,
            "days_text": days if errors else str(window),
            "errors": errors,
            "names": {c.key: c.name for c in columns},
            "since": since,
            "cfd": flow_charts.cumulative_flow(cfd, columns),
            "scatter": flow_charts.cycle_time_scatter(
                report.items, report.cycle_time_percentiles, since, report.last
            ),
            "throughput": flow_charts.throughput_bars(weeks),
            "aging_chart": flow_charts.aging_chart(report.aging, columns, p85),
            "p85": p85,
            "finished_total": sum(report.daily_throughput),
        },
        status=400 if errors else 200,
    )


# --- forecasts -----------------------------------------------------------------------------


def when_histogram(result: WhenForecast, start: date, target: date | None = None) -> Any:
    def label(d: int) -> str:
        return flow_charts.day_label(start + timedelta(days=max(d - 1, 0)))

    return flow_charts.histogram(
        result.histogram,
        markers=result.days,
        value_label=label,
        what="days until the scope is done",
        target=(target - start).days + 1 if target is not None else None,
        target_label=f"target {flow_charts.day_label(target)}" if target else "target",
    )


def how_many_histogram(result: HowManyForecast) -> Any:
    return flow_charts.histogram(
        result.histogram,
        markers=result.counts,
        value_label=str,
        what=f"items finished in {result.days} days",
    )


@router.get("/projects/{key}/forecast")
def forecast_page(
    key: str,
    request: Request,
    caller: PageCaller,
    items: str = "",
    items_high: str = "",
    by: str = "",
    window_days: str = "",
    horizon_weeks: str = "",
    windows: str = "",
) -> Response:
    values = {
        "items": items.strip(),
        "items_high": items_high.strip(),
        "by": by.strip(),
        "window_days": window_days.strip() or str(DEFAULT_DAYS),
        "horizon_weeks": horizon_weeks.strip() or "2",
        "windows": windows.strip() or "8",
    }
    today = caller.state.clock.now().date()
    values["by"] = values["by"] or (today + timedelta(days=HOW_MANY_DAYS)).isoformat()
    when_errors: list[str] = []
    window = whole(values["window_days"], "History window (days)", 7, 3650, when_errors)
    low = high = None
    if values["items"]:
        low = whole(values["items"], "Items", 0, 1_000_000, when_errors)
    if values["items_high"]:
        high = whole(values["items_high"], "Up to", 0, 1_000_000, when_errors)
        if low is None and not values["items"]:
            when_errors.append("Up to: give the low end of the range in Items too")
        elif low is not None and high is not None and high < low:
            when_errors.append("Up to: the high end of the range is below the low end")
    how_errors: list[str] = []
    target = day(values["by"], "By", how_errors)
    if target is not None and target < today:
        how_errors.append(f"By: {target} is in the past")
    back_errors: list[str] = []
    horizon = whole(values["horizon_weeks"], "Hidden weeks", 1, 52, back_errors)
    n_windows = whole(values["windows"], "Windows", 1, 52, back_errors)

    when = how_many = backtest = None
    problems: dict[str, str] = {}
    scope: float | tuple[float, float] | None = None
    if low is not None:
        scope = (low, high) if high is not None and high != low else low
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        history = flow.load_history(ctx, project.key)
        remaining = len(flow.remaining_keys(history))
        if scope is None and not remaining:
            problems["when"] = "there are no unfinished items"
        elif not when_errors and window is not None:
            try:
                when = flow.forecast_when(
                    ctx, project.key, scope=scope, window_days=window, trials=TRIALS
                )
            except InvalidInput as exc:
                problems["when"] = exc.message
        if not how_errors and not when_errors and target is not None and window is not None:
            try:
                how_many = flow.forecast_how_many(
                    ctx, project.key, target, window_days=window, trials=TRIALS
                )
            except InvalidInput as exc:
                problems["how_many"] = exc.message
        if not back_errors and horizon is not None and n_windows is not None:
            try:
                backtest = flow.backtest(ctx, project.key, horizon_weeks=horizon, windows=n_windows)
            except InvalidInput as exc:
                problems["backtest"] = exc.message
    spans = []  # each backtest window's hidden days, as dates
    if backtest and history.created:
        first = min(history.created.values()).date()
        spans = [
            (
                first + timedelta(days=w.start),
                first + timedelta(days=w.start + backtest.horizon_days - 1),
            )
            for w in backtest.windows
        ]
    bad = bool(when_errors or how_errors or back_errors)
    return render(
        request,
        "planning/forecast.html",
        {
            "nav": "projects",
            "project": project,
            "values": values,
            "today": today,
            "remaining": remaining,
            "when": when,
            "when_chart": when_histogram(when, today) if when else None,
            "how_many": how_many,
            "how_many_chart": how_many_histogram(how_many) if how_many else None,
            "backtest": backtest,
            "inside": sum(w.inside for w in backtest.windows) if backtest else 0,
            "spans": spans,
            "problems": problems,
            "when_errors": when_errors,
            "how_errors": how_errors,
            "back_errors": back_errors,
        },
        status=400 if bad else 200,
    )


# --- milestones ----------------------------------------------------------------------------


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
    try:
        data = MilestoneCreate.model_validate(
            {
                "name": values["name"],
                "target_date": values["target_date"],
                "description": values["description"],
                "items": item_keys(values["items"]),
            }
        )
    except ValidationError as exc:
        errors = [_date_hint(e) for e in validation_messages(exc, MILESTONE_LABELS)]
        return _milestones_page(
            request, caller, project.key, values=values, errors=errors, status=400
        )
    try:
        with caller.write() as ctx:
            created = milestones.create_milestone(
                ctx,
                project.key,
                data.name,
                data.target_date,
                description=data.description,
                item_keys=data.items,
            )
    except (InvalidInput, Conflict, NotFound) as exc:
        return _milestones_page(
            request, caller, project.key, values=values, errors=[exc.message], status=400
        )
    return redirect(f"/milestones/{created.id}")


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
