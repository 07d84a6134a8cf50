"""``loopwise milestone``: milestones and their forecasts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.planning.cli_args import (
    DATE,
    ItemKeysArg,
    SeedOption,
    TrialsOption,
    WindowOption,
    pct,
)
from loopwise.planning.flow.schemas import DEFAULT_WINDOW_DAYS, ForecastIn
from loopwise.planning.items.schemas import ItemKeys
from loopwise.planning.milestones import service as milestones
from loopwise.planning.milestones.models import Milestone
from loopwise.planning.milestones.schemas import MilestoneCreate

if TYPE_CHECKING:
    from loopwise.console import CliEnv


milestone_app = typer.Typer(
    name="milestone",
    help="Milestones: items with a target date, forecast against it.",
    no_args_is_help=True,
)


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
    env = env_of(ctx)
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
    env = env_of(ctx)
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
    env = env_of(ctx)
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
    env = env_of(ctx)
    data = ItemKeys(items=items)
    with env.write() as c:
        found = milestones.add_items(c, milestone_id, data.items)
    env.emit(found, Milestone, as_json=as_json, render=lambda: _milestone_view(env, found))


@milestone_app.command("forecast")
def milestone_forecast(
    ctx: typer.Context,
    milestone_id: Annotated[str, typer.Argument(help="Milestone id.")],
    window_days: WindowOption = DEFAULT_WINDOW_DAYS,
    trials: TrialsOption = 10_000,
    seed: SeedOption = None,
    as_json: JsonOption = False,
) -> None:
    """When the milestone's unfinished items will be done, and the chance of the target."""
    env = env_of(ctx)
    query = ForecastIn(window_days=window_days, trials=trials, seed=seed)
    with env.working(f"Simulating {query.trials} futures ..."), env.read() as c:
        fc = milestones.forecast(
            c, milestone_id, window_days=query.window_days, trials=query.trials, seed=query.seed
        )

    def render() -> list[Any]:
        m = fc.milestone
        out: list[Any] = [
            env.fields(
                [
                    ("Milestone", f"{m.name} ({m.id})"),
                    ("Target date", f"{m.target_date}"),
                    ("Remaining", f"{m.remaining} items (weighted scope {fc.scope:g})"),
                    ("Chance by target", pct(fc.probability)),
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


def groups() -> list[typer.Typer]:
    return [milestone_app]
