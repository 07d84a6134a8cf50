"""``loopwise board|cycle|flow|forecast|milestone``: delivery planning from the command
line (risks, RACI and the portfolio are in ``register_cli``).

Parse -> planning service (board, cycles, flow, milestones) -> print. Command names
mirror the service functions, as ``board_api.py`` does for HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from loopwise.core.errors import InvalidInput
from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning import board, cycles, flow, milestones
from loopwise.planning.models import Board, Column, Cycle, CycleReport, ItemKind, Milestone, Verdict
from loopwise.planning.schemas import CycleCreate, ItemKeys, MilestoneCreate, WipLimitIn

if TYPE_CHECKING:
    from loopwise.console import CliEnv


class _DefaultShow(TyperGroup):
    """A group whose first argument, when it is not one of its commands, goes to ``show``:
    ``loopwise board CHURN`` is ``loopwise board show CHURN``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["show", *args]
        return super().parse_args(ctx, args)


board_app = typer.Typer(
    name="board",
    cls=_DefaultShow,
    subcommand_metavar="PROJECT | COMMAND [ARGS]...",
    help="The board: columns with WIP limits and the cards in them. "
    "`loopwise board PROJECT` shows it.",
    no_args_is_help=True,
)
cycle_app = typer.Typer(
    name="cycle",
    help="Discovery cycles: time-boxes with a goal and a report.",
    no_args_is_help=True,
)
forecast_app = typer.Typer(
    name="forecast",
    help="Monte Carlo forecasts from the project's own throughput.",
    no_args_is_help=True,
)
milestone_app = typer.Typer(
    name="milestone",
    help="Milestones: items with a target date, forecast against it.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProjectArg = Annotated[str, typer.Argument(help="Project key, e.g. CHURN.")]
ItemKeysArg = Annotated[list[str], typer.Argument(help="Work item keys, e.g. CHURN-3 CHURN-4.")]
SeedOption = Annotated[int | None, typer.Option(help="Random seed, for a repeatable forecast.")]
TrialsOption = Annotated[int, typer.Option(min=100, max=200_000, help="Monte Carlo trials.")]
WindowOption = Annotated[
    int,
    typer.Option(min=7, max=3650, help="Days of throughput history the forecast samples."),
]
DATE = ["%Y-%m-%d"]


def groups() -> list[typer.Typer]:
    return [board_app, cycle_app, forecast_app, milestone_app]


def commands() -> list[tuple[str, Any]]:
    return [("flow", flow_report)]


def _env(ctx: typer.Context) -> CliEnv:
    env: CliEnv = ctx.obj
    return env


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


_VERDICT_STYLE = {Verdict.SUPPORTED: "green", Verdict.REFUTED: "red", Verdict.OPEN: "yellow"}


# --- board -----------------------------------------------------------------------------


def _limit(column: Column) -> str:
    return "—" if column.wip_limit is None else str(column.wip_limit)


def _board_view(env: CliEnv, shown: Board, filtered: bool) -> list[Any]:
    out: list[Any] = []
    for col in shown.columns:
        c = col.column
        title = f"{c.name} ({c.key}) · {col.count} item{'s' if col.count != 1 else ''}"
        if c.wip_limit is not None:
            title += f" · WIP limit {c.wip_limit}"
        if col.over_limit:
            title += " · OVER LIMIT"
        if filtered or len(col.cards) < col.count:
            title += f" · showing {len(col.cards)}"
        if not col.cards:
            out.append(Text(title + " · empty", style="bold"))
            continue
        rows = []
        for card in col.cards:
            notes = []
            if card.verdict is not None:
                notes.append(Text(card.verdict.value, style=_VERDICT_STYLE.get(card.verdict, "")))
            if card.overdue:
                notes.append(Text("past time-box", style="red"))
            if card.cycle:
                notes.append(Text(card.cycle))
            if card.labels:
                notes.append(Text(", ".join(card.labels)))
            rows.append(
                (
                    card.key,
                    card.kind.value,
                    card.title,
                    card.assignee or "—",
                    _days(card.age_days) if card.age_days is not None else "",
                    Text(" · ").join(notes),
                )
            )
        out.append(Text(title, style="bold"))
        out.append(env.table(["Key", "Kind", "Title", "Assignee", "Age", "Notes"], rows))
    return out


@board_app.command("show")
def show_board(
    ctx: typer.Context,
    project: ProjectArg,
    kind: Annotated[ItemKind | None, typer.Option(help="Only cards of this kind.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only cards assigned to this user.")] = None,
    label: Annotated[str | None, typer.Option(help="Only cards with this label.")] = None,
    cycle: Annotated[
        int | None, typer.Option(min=1, help="Only cards planned into this cycle number.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the board: each column with its count, WIP limit and cards."""
    env = _env(ctx)
    where = board.BoardFilter(kind=kind, assignee=assignee, label=label, cycle=cycle)
    with env.read() as c:
        shown = board.board(c, project, where)
    filtered = any(v is not None for v in (kind, assignee, label, cycle))
    env.emit(shown, Board, as_json=as_json, render=lambda: _board_view(env, shown, filtered))


@board_app.command("columns")
def get_columns(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List the board's columns: key, name, category and WIP limit."""
    env = _env(ctx)
    with env.read() as c:
        cols = board.get_columns(c, project)
    rows = [(col.key, col.name, col.category.value, _limit(col)) for col in cols]
    env.emit(
        cols,
        list[Column],
        as_json=as_json,
        render=lambda: env.table(["Key", "Name", "Category", "WIP limit"], rows),
    )


@board_app.command("wip")
def set_wip_limit(
    ctx: typer.Context,
    project: ProjectArg,
    column: Annotated[str, typer.Argument(help="Column key, e.g. in_progress.")],
    limit: Annotated[str, typer.Argument(help="The new WIP limit, or `none` to remove it.")],
    as_json: JsonOption = False,
) -> None:
    """Set or remove a column's WIP limit (moves past it then need a reason)."""
    env = _env(ctx)
    if limit.strip().lower() == "none":
        value: int | None = None
    else:
        try:
            value = int(limit)
        except ValueError:
            raise InvalidInput(
                f"WIP limit must be a whole number or 'none', got {limit!r}"
            ) from None
    data = WipLimitIn(wip_limit=value)
    with env.write() as c:
        col = board.set_wip_limit(c, project, column, data.wip_limit)
    env.emit(
        col,
        Column,
        as_json=as_json,
        render=lambda: (
            f"{col.name} ({col.key}): WIP limit "
            + ("removed" if col.wip_limit is None else str(col.wip_limit))
        ),
    )


# --- cycles ----------------------------------------------------------------------------


def _cycle_rows(env: CliEnv, found: list[Cycle]) -> Any:
    if not found:
        return "no cycles yet: create one with `loopwise cycle create PROJECT --goal ...`"
    rows = [
        (c.number, c.name, f"{c.starts_on} to {c.ends_on}", c.goal or "—", len(c.item_keys))
        for c in found
    ]
    return env.table(["#", "Name", "Dates", "Goal", "Items"], rows)


def _cycle_view(env: CliEnv, c: Cycle) -> Any:
    return env.fields(
        [
            ("Cycle", f"{c.number}: {c.name}"),
            ("Project", c.project_key),
            ("Dates", f"{c.starts_on} to {c.ends_on} ({(c.ends_on - c.starts_on).days + 1} days)"),
            ("Goal", c.goal or "—"),
            ("Items", ", ".join(c.item_keys) or "—"),
        ]
    )


@cycle_app.command("list")
def list_cycles(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List a project's cycles."""
    env = _env(ctx)
    with env.read() as c:
        found = cycles.list_cycles(c, project)
    env.emit(found, list[Cycle], as_json=as_json, render=lambda: _cycle_rows(env, found))


@cycle_app.command("create")
def create_cycle(
    ctx: typer.Context,
    project: ProjectArg,
    goal: Annotated[str, typer.Option(help="What the cycle should find out or deliver.")] = "",
    name: Annotated[str | None, typer.Option(help="Default: Cycle N.")] = None,
    start: Annotated[
        datetime | None,
        typer.Option(formats=DATE, help="First day (YYYY-MM-DD); default: after the last cycle."),
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="Length in days; default: the project's (21).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the next cycle."""
    env = _env(ctx)
    data = CycleCreate(goal=goal, name=name, starts_on=_day(start), days=days)
    with env.write() as c:
        created = cycles.create_cycle(
            c, project, goal=data.goal, name=data.name, starts_on=data.starts_on, days=data.days
        )
    env.emit(created, Cycle, as_json=as_json, render=lambda: _cycle_view(env, created))


@cycle_app.command("plan")
def plan_items(
    ctx: typer.Context,
    project: ProjectArg,
    number: Annotated[int, typer.Argument(help="Cycle number.")],
    items: ItemKeysArg,
    as_json: JsonOption = False,
) -> None:
    """Plan work items into a cycle."""
    env = _env(ctx)
    data = ItemKeys(items=items)
    with env.write() as c:
        planned = cycles.plan_items(c, project, number, data.items)
    env.emit(planned, Cycle, as_json=as_json, render=lambda: _cycle_view(env, planned))


@cycle_app.command("unplan")
def unplan_item(
    ctx: typer.Context,
    project: ProjectArg,
    number: Annotated[int, typer.Argument(help="Cycle number.")],
    item: Annotated[str, typer.Argument(help="Work item key.")],
    as_json: JsonOption = False,
) -> None:
    """Take a work item out of a cycle."""
    env = _env(ctx)
    with env.write() as c:
        planned = cycles.unplan_item(c, project, number, item)
    env.emit(planned, Cycle, as_json=as_json, render=lambda: _cycle_view(env, planned))


def _keys(keys: Sequence[str]) -> str:
    return ", ".join(keys) if keys else "—"


def _report_view(env: CliEnv, r: CycleReport) -> list[Any]:
    c = r.cycle
    out: list[Any] = [
        env.fields(
            [
                ("Cycle", f"{c.number}: {c.name} ({c.starts_on} to {c.ends_on})"),
                ("Goal", c.goal or "—"),
                ("Planned", f"{len(r.planned)}: {_keys(r.planned)}"),
                ("Done", f"{len(r.done)}: {_keys(r.done)}"),
                ("Killed", f"{len(r.killed)}: {_keys(r.killed)}"),
                ("Carry-over", f"{len(r.carry_over)}: {_keys(r.carry_over)}"),
            ]
        )
    ]
    if r.hypotheses:
        rows = [
            (key, title, Text(v.value, style=_VERDICT_STYLE.get(v, "")))
            for key, title, v in r.hypotheses
        ]
        out.append(env.table(["Hypothesis", "Title", "Verdict"], rows, title="Resolved hypotheses"))
    else:
        out.append("no hypothesis was resolved in this cycle")
    return out


@cycle_app.command("report")
def cycle_report(
    ctx: typer.Context,
    project: ProjectArg,
    number: Annotated[int, typer.Argument(help="Cycle number.")],
    as_json: JsonOption = False,
) -> None:
    """What came of a cycle: planned, done, killed, carry-over, hypotheses resolved."""
    env = _env(ctx)
    with env.read() as c:
        found = cycles.report(c, project, number)
    env.emit(found, CycleReport, as_json=as_json, render=lambda: _report_view(env, found))


# --- flow ------------------------------------------------------------------------------


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
    env = _env(ctx)
    with env.read() as c:
        report = flow.flow_report(c, project, days=days)
    env.emit(report, flow.FlowReport, as_json=as_json, render=lambda: _flow_view(env, report))


# --- forecasts -------------------------------------------------------------------------


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
    items: Annotated[
        int | None, typer.Option(min=0, max=1_000_000, help="How many items (the scope).")
    ] = None,
    items_high: Annotated[
        int | None,
        typer.Option(min=0, max=1_000_000, help="Upper end of a scope range (with --items)."),
    ] = None,
    keys: Annotated[
        str | None, typer.Option(help="Comma-separated item keys, e.g. CHURN-3,CHURN-4.")
    ] = None,
    window_days: WindowOption = flow.DEFAULT_WINDOW_DAYS,
    trials: TrialsOption = 10_000,
    data_multiplier: Annotated[
        float, typer.Option(min=1, max=10, help="Weight of data tasks in the scope.")
    ] = flow.DATA_MULTIPLIER,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """When will N items (a range, these keys, or all unfinished items) be done?"""
    env = _env(ctx)
    if items_high is not None and items is None:
        raise typer.BadParameter("--items-high needs --items", param_hint="--items-high")
    if keys is not None and items is not None:
        raise typer.BadParameter("give --items or --keys, not both", param_hint="--keys")
    scope: float | tuple[float, float] | None = None
    what = "all unfinished items"
    if items is not None:
        scope = (items, items_high) if items_high is not None else items
        what = "the scope"
    item_keys = None
    if keys is not None:
        item_keys = [k.strip().upper() for k in keys.split(",") if k.strip()]
        if not item_keys:
            raise typer.BadParameter("no item keys given", param_hint="--keys")
        what = ", ".join(item_keys[:5]) + (" ..." if len(item_keys) > 5 else "")
    with env.working(f"Simulating {trials} futures ..."), env.read() as c:
        result = flow.forecast_when(
            c,
            project,
            scope=scope,
            item_keys=item_keys,
            window_days=window_days,
            trials=trials,
            data_multiplier=data_multiplier,
            seed=seed,
        )
    env.emit(result, WhenForecast, as_json=as_json, render=lambda: _when_view(env, result, what))


@forecast_app.command("how-many")
def forecast_how_many(
    ctx: typer.Context,
    project: ProjectArg,
    by: Annotated[
        datetime, typer.Option(formats=DATE, help="Last day counted (YYYY-MM-DD), inclusive.")
    ],
    window_days: WindowOption = flow.DEFAULT_WINDOW_DAYS,
    trials: TrialsOption = 10_000,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """How many items will be finished from today through --by?"""
    env = _env(ctx)
    with env.working(f"Simulating {trials} futures ..."), env.read() as c:
        result = flow.forecast_how_many(
            c, project, by.date(), window_days=window_days, trials=trials, seed=seed
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
        int, typer.Option(min=1, max=52, help="Weeks each window hides and forecasts.")
    ] = 2,
    windows: Annotated[int, typer.Option(min=1, max=52, help="How many windows.")] = 8,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the forecasts against the past: hide recent weeks, forecast them, compare."""
    env = _env(ctx)
    with env.working("Backtesting ..."), env.read() as c:
        report = flow.backtest(c, project, horizon_weeks=horizon_weeks, windows=windows, seed=seed)
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


# --- milestones ------------------------------------------------------------------------


def _milestone_rows(env: CliEnv, found: list[Milestone]) -> Any:
    if not found:
        return "no milestones yet"
    rows = [(m.id, m.name, f"{m.target_date}", len(m.item_keys), m.remaining) for m in found]
    return env.table(["Id", "Name", "Target", "Items", "Remaining"], rows)


def _milestone_view(env: CliEnv, m: Milestone) -> Any:
    return env.fields(
        [
            ("Milestone", m.name),
            ("Id", m.id),
            ("Project", m.project_key),
            ("Target date", f"{m.target_date}"),
            ("Items", ", ".join(m.item_keys) or "—"),
            ("Remaining", m.remaining),
            ("Description", m.description or "—"),
        ]
    )


@milestone_app.command("list")
def list_milestones(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List a project's milestones."""
    env = _env(ctx)
    with env.read() as c:
        found = milestones.list_milestones(c, project)
    env.emit(found, list[Milestone], as_json=as_json, render=lambda: _milestone_rows(env, found))


@milestone_app.command("create")
def create_milestone(
    ctx: typer.Context,
    project: ProjectArg,
    name: Annotated[str, typer.Argument(help="e.g. Pilot.")],
    target: Annotated[datetime, typer.Option(formats=DATE, help="Target date (YYYY-MM-DD).")],
    item: Annotated[
        list[str] | None, typer.Option(help="A work item key; repeat for more.")
    ] = None,
    description: Annotated[str, typer.Option(help="What the milestone means.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a milestone with a target date and its items."""
    env = _env(ctx)
    data = MilestoneCreate(
        name=name, target_date=target.date(), description=description, items=item or []
    )
    with env.write() as c:
        created = milestones.create_milestone(
            c,
            project,
            data.name,
            data.target_date,
            description=data.description,
            item_keys=data.items,
        )
    env.emit(created, Milestone, as_json=as_json, render=lambda: _milestone_view(env, created))


@milestone_app.command("show")
def get_milestone(
    ctx: typer.Context,
    milestone_id: Annotated[str, typer.Argument(help="Milestone id, e.g. ms_...")],
    as_json: JsonOption = False,
) -> None:
    """Show a milestone."""
    env = _env(ctx)
    with env.read() as c:
        found = milestones.get_milestone(c, milestone_id)
    env.emit(found, Milestone, as_json=as_json, render=lambda: _milestone_view(env, found))


@milestone_app.command("add")
def add_items(
    ctx: typer.Context,
    milestone_id: Annotated[str, typer.Argument(help="Milestone id.")],
    items: ItemKeysArg,
    as_json: JsonOption = False,
) -> None:
    """Add work items to a milestone."""
    env = _env(ctx)
    data = ItemKeys(items=items)
    with env.write() as c:
        found = milestones.add_items(c, milestone_id, data.items)
    env.emit(found, Milestone, as_json=as_json, render=lambda: _milestone_view(env, found))


@milestone_app.command("forecast")
def milestone_forecast(
    ctx: typer.Context,
    milestone_id: Annotated[str, typer.Argument(help="Milestone id.")],
    window_days: WindowOption = flow.DEFAULT_WINDOW_DAYS,
    trials: TrialsOption = 10_000,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """When the milestone's unfinished items will be done, and the chance of the target."""
    env = _env(ctx)
    with env.working(f"Simulating {trials} futures ..."), env.read() as c:
        fc = milestones.forecast(c, milestone_id, window_days=window_days, trials=trials, seed=seed)

    def render() -> list[Any]:
        m = fc.milestone
        out: list[Any] = [
            env.fields(
                [
                    ("Milestone", f"{m.name} ({m.id})"),
                    ("Target date", f"{m.target_date}"),
                    ("Remaining", f"{m.remaining} items (weighted scope {fc.scope:g})"),
                    ("Chance by target", _pct(fc.probability)),
                ]
            )
        ]
        if fc.forecast is not None:
            f = fc.forecast
            rows = [(f"P{p}", f.days[p], f"{f.dates[p]}") for p in sorted(f.days)]
            out.append(env.table(["Chance", "Days", "Done on or before"], rows))
        elif fc.problem:
            out.append(Text(f"no forecast: {fc.problem}"))
        return out

    env.emit(fc, milestones.MilestoneForecast, as_json=as_json, render=render)
