"""Flow metrics and forecast pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.core.errors import InvalidInput
from loopwise.numeric.flow import CumulativeFlow
from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning.board import service as board
from loopwise.planning.board.models import ColumnCategory
from loopwise.planning.flow import charts as flow_charts
from loopwise.planning.flow import service as flow
from loopwise.planning.flow.schemas import DEFAULT_WINDOW_DAYS, BacktestIn, WhenIn
from loopwise.planning.forms import day, whole
from loopwise.planning.items.models import WorkItem
from loopwise.projects import service as projects
from loopwise.web.pages import PageCaller, render, validation_messages

router = APIRouter(include_in_schema=False)


DEFAULT_DAYS = DEFAULT_WINDOW_DAYS


WEEK = timedelta(days=7)


HOW_MANY_DAYS = 14  # the "how many by" date offered first: two weeks from today


FORECAST_LABELS = {
    "items": "Items",
    "items_high": "Up to",
    "window_days": "History window (days)",
    "horizon_weeks": "Hidden weeks",
    "windows": "Windows",
}
TRIALS = 10_000


def finished(item: WorkItem, categories: dict[str, ColumnCategory]) -> bool:
    category = categories.get(item.status)
    return category is not None and category.finished


def active_part(cfd: CumulativeFlow, first: date) -> tuple[CumulativeFlow, date]:
    """The diagram from the first day any item existed (the whole of it if none did)."""
    start = next((i for i, row in enumerate(cfd.counts) if any(row)), 0)
    if start == 0:
        return cfd, first
    return CumulativeFlow(cfd.days[start:], cfd.statuses, cfd.counts[start:]), cfd.days[start]


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
    query = None
    try:  # the same schema as the API's: bounds and range rules said the same way
        query = WhenIn.model_validate(
            {
                "items": values["items"] or None,
                "items_high": values["items_high"] or None,
                "window_days": values["window_days"],
                "trials": TRIALS,
            }
        )
    except ValidationError as exc:
        when_errors = validation_messages(exc, FORECAST_LABELS)
    how_errors: list[str] = []
    target = day(values["by"], "By", how_errors)
    if target is not None and target < today:
        how_errors.append(f"By: {target} is in the past")
    back_errors: list[str] = []
    back = None
    try:
        back = BacktestIn.model_validate(
            {"horizon_weeks": values["horizon_weeks"], "windows": values["windows"]}
        )
    except ValidationError as exc:
        back_errors = validation_messages(exc, FORECAST_LABELS)

    when = how_many = backtest = None
    problems: dict[str, str] = {}
    scope = query.scope if query is not None else None
    window = query.window_days if query is not None else None
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
        if back is not None:
            try:
                backtest = flow.backtest(
                    ctx, project.key, horizon_weeks=back.horizon_weeks, windows=back.windows
                )
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
