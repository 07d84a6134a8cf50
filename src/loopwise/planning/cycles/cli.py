"""``loopwise cycle``: discovery cycles and their reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.planning.cli_args import DATE, VERDICT_STYLE, ItemKeysArg, day
from loopwise.planning.cycles import service as cycles
from loopwise.planning.cycles.models import Cycle, CycleReport
from loopwise.planning.cycles.schemas import CycleCreate
from loopwise.planning.items.schemas import ItemKeys

if TYPE_CHECKING:
    from loopwise.console import CliEnv


cycle_app = typer.Typer(
    name="cycle",
    help="Discovery cycles: time-boxes with a goal and a report.",
    no_args_is_help=True,
)


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
    env = env_of(ctx)
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
    env = env_of(ctx)
    data = CycleCreate(goal=goal, name=name, starts_on=day(start), days=days)
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
    env = env_of(ctx)
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
    env = env_of(ctx)
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
                ("Retraining filed", f"{len(r.retraining)}: {_keys(r.retraining)}"),
            ]
        )
    ]
    if r.hypotheses:
        rows = [
            (key, title, Text(v.value, style=VERDICT_STYLE.get(v, "")))
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
    env = env_of(ctx)
    with env.read() as c:
        found = cycles.report(c, project, number)
    env.emit(found, CycleReport, as_json=as_json, render=lambda: _report_view(env, found))


def groups() -> list[typer.Typer]:
    return [cycle_app]
