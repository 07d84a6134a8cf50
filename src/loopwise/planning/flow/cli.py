"""``loopwise flow`` and ``loopwise forecast``: flow metrics and Monte Carlo forecasts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning.cli_args import DATE, SeedOption, TrialsOption, WindowOption
from loopwise.planning.flow import service as flow
from loopwise.planning.flow.schemas import (
    DATA_MULTIPLIER,
    DEFAULT_WINDOW_DAYS,
    BacktestIn,
    HowManyIn,
    WhenIn,
)

if TYPE_CHECKING:
    from loopwise.console import CliEnv


forecast_app = typer.Typer(
    name="forecast",
    help="Monte Carlo forecasts from the project's own throughput.",
    no_args_is_help=True,
)


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


def _flow_view(env: CliEnv, r: flow.FlowReport) -> list[Any]:
    out: list[Any] = [
        Text(f"{r.project_key}: {len(r.items)} items finished from {r.first} to {r.last}")
    ]
    if r.cycle_time_percentiles:
        times = [
            (f"P{p}", _days(r.cycle_time_percentiles.get(p)), _days(r.lead_time_percentiles.get(p)))
            for p in sorted(r.cycle_time_percentiles)
        ]
        out.append(env.table(["Percentile", "Cycle time", "Lead time"], times, title="Times"))
    else:
        out.append(Text("no finished items in the window: no cycle times yet"))
    peak = max((n for _, n in r.weekly_throughput), default=0)
    scale = 40 / peak if peak > 40 else 1.0
    weeks = [(f"{monday}", n, "█" * round(n * scale)) for monday, n in r.weekly_throughput]
    out.append(env.table(["Week of", "Finished", ""], weeks, title="Throughput per week"))
    if r.aging:
        rows = []
        for a in r.aging:
            flags = []
            if a.over_p85:
                flags.append(Text("older than P85 cycle time", style="yellow"))
            if a.past_time_box:
                flags.append(Text("past time-box", style="red"))
            rows.append((a.key, a.kind.value, a.status, _days(a.age_days), Text(" · ").join(flags)))
        out.append(env.table(["Key", "Kind", "Status", "Age", "Flags"], rows, title="Aging WIP"))
    else:
        out.append(Text("no work in progress"))
    return out


def flow_report(
    ctx: typer.Context,
    project: ProjectArg,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Window in days, up to today.")] = 90,
    as_json: JsonOption = False,
) -> None:
    """Flow metrics: cycle-time percentiles, throughput per week, aging work in progress."""
    env = env_of(ctx)
    with env.read() as c:
        report = flow.flow_report(c, project, days=days)
    env.emit(report, flow.FlowReport, as_json=as_json, render=lambda: _flow_view(env, report))


def _when_view(env: CliEnv, f: WhenForecast, what: str) -> list[Any]:
    scope = (
        f"{f.scope_low:g}" if f.scope_low == f.scope_high else f"{f.scope_low:g}-{f.scope_high:g}"
    )
    rows = [(f"P{p}", f.days[p], f"{f.dates[p]}") for p in sorted(f.days)]
    out: list[Any] = [
        Text(f"When will {what} ({scope} items) be done? {f.trials} trials."),
        env.table(["Chance", "Days", "Done on or before"], rows),
    ]
    if 85 in f.dates:
        out.append(Text(f"85% chance to be done by {f.dates[85]}."))
    return out


@forecast_app.command("when")
def forecast_when(
    ctx: typer.Context,
    project: ProjectArg,
    items: Annotated[int | None, typer.Option(help="How many items (the scope).")] = None,
    items_high: Annotated[
        int | None, typer.Option(help="Upper end of a scope range (with --items).")
    ] = None,
    keys: Annotated[
        str | None, typer.Option(help="Comma-separated item keys, e.g. CHURN-3,CHURN-4.")
    ] = None,
    window_days: WindowOption = DEFAULT_WINDOW_DAYS,
    trials: TrialsOption = 10_000,
    data_multiplier: Annotated[
        float, typer.Option(help="Weight of data tasks in the scope (1 to 10).")
    ] = DATA_MULTIPLIER,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """When will N items (a range, these keys, or all unfinished items) be done?"""
    env = env_of(ctx)
    if keys is not None and items is not None:
        raise typer.BadParameter("give --items or --keys, not both", param_hint="--keys")
    query = WhenIn(  # the API's schema: the same bounds and range rules
        items=items,
        items_high=items_high,
        keys=keys,
        window_days=window_days,
        trials=trials,
        data_multiplier=data_multiplier,
        seed=seed,
    )
    what = "the scope" if query.scope is not None else "all unfinished items"
    if keys is not None:
        if not query.item_keys:
            raise typer.BadParameter("no item keys given", param_hint="--keys")
        what = ", ".join(query.item_keys[:5]) + (" ..." if len(query.item_keys) > 5 else "")
    with env.working(f"Simulating {query.trials} futures ..."), env.read() as c:
        result = flow.forecast_when(
            c,
            project,
            scope=query.scope,
            item_keys=query.item_keys,
            window_days=query.window_days,
            trials=query.trials,
            data_multiplier=query.data_multiplier,
            seed=query.seed,
        )
    env.emit(result, WhenForecast, as_json=as_json, render=lambda: _when_view(env, result, what))


@forecast_app.command("how-many")
def forecast_how_many(
    ctx: typer.Context,
    project: ProjectArg,
    by: Annotated[
        datetime, typer.Option(formats=DATE, help="Last day counted (YYYY-MM-DD), inclusive.")
    ],
    window_days: WindowOption = DEFAULT_WINDOW_DAYS,
    trials: TrialsOption = 10_000,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """How many items will be finished from today through --by?"""
    env = env_of(ctx)
    query = HowManyIn(by=by.date(), window_days=window_days, trials=trials, seed=seed)
    with env.working(f"Simulating {query.trials} futures ..."), env.read() as c:
        result = flow.forecast_how_many(
            c,
            project,
            query.by,
            window_days=query.window_days,
            trials=query.trials,
            seed=query.seed,
        )

    def render() -> list[Any]:
        rows = [(f"P{p}", f"at least {result.counts[p]}") for p in sorted(result.counts)]
        return [
            Text(f"Items finished from today through {by.date()} ({result.days} days):"),
            env.table(["Chance", "Items"], rows),
        ]

    env.emit(result, HowManyForecast, as_json=as_json, render=render)


@forecast_app.command("backtest")
def backtest(
    ctx: typer.Context,
    project: ProjectArg,
    horizon_weeks: Annotated[
        int, typer.Option(help="Weeks each window hides and forecasts (1 to 52).")
    ] = 2,
    windows: Annotated[int, typer.Option(help="How many windows (1 to 52).")] = 8,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the forecasts against the past: hide recent weeks, forecast them, compare."""
    env = env_of(ctx)
    query = BacktestIn(horizon_weeks=horizon_weeks, windows=windows, seed=seed)
    with env.working("Backtesting ..."), env.read() as c:
        report = flow.backtest(
            c, project, horizon_weeks=query.horizon_weeks, windows=query.windows, seed=query.seed
        )
        first = min(flow.load_history(c, project).created.values()).date()

    def render() -> list[Any]:
        rows = []
        for w in report.windows:
            start = first + timedelta(days=w.start)
            end = start + timedelta(days=report.horizon_days - 1)
            rows.append(
                (
                    f"{start} to {end}",
                    w.actual,
                    f"{w.low}-{w.high}",
                    w.p85,
                    Text("yes", style="green") if w.inside else Text("no", style="red"),
                )
            )
        inside = sum(w.inside for w in report.windows)
        return [
            env.table(["Window", "Actual", "P85 interval", "P85 (at least)", "Inside"], rows),
            Text(
                f"actual inside the P85 interval in {inside} of {len(report.windows)} windows; "
                f"at least the P85 count in {report.p85_rate:.0%} (well calibrated: about 85%)"
            ),
        ]

    env.emit(report, flow.BacktestReport, as_json=as_json, render=render)


def groups() -> list[typer.Typer]:
    return [forecast_app]


def commands() -> list[tuple[str, Any]]:
    return [("flow", flow_report)]
