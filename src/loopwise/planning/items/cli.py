"""``loopwise item``: work items, their history and Definition-of-Done checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.planning.board import done
from loopwise.planning.board import service as board
from loopwise.planning.board.models import ItemCheck
from loopwise.planning.board.schemas import CheckIn
from loopwise.planning.cli_args import ItemArg
from loopwise.planning.items import service
from loopwise.planning.items.models import ItemEvent, ItemKind, WorkItem
from loopwise.planning.items.schemas import ItemCreate, StatusChange

if TYPE_CHECKING:
    from loopwise.console import CliEnv


item_app = typer.Typer(
    name="item", help="Work items and their status history.", no_args_is_help=True
)


def _item_rows(env: CliEnv, items: list[WorkItem]) -> Any:
    if not items:
        return "no work items yet"
    rows = [
        (i.key, i.kind.value, i.status, i.title, i.assignee or "—", ", ".join(i.labels))
        for i in items
    ]
    return env.table(["Key", "Kind", "Status", "Title", "Assignee", "Labels"], rows)


def _item_view(env: CliEnv, item: WorkItem) -> Any:
    return env.fields(
        [
            ("Key", item.key),
            ("Kind", item.kind.value),
            ("Title", item.title),
            ("Status", item.status),
            ("Assignee", item.assignee or "—"),
            ("Estimate", env.num(item.estimate)),
            ("Labels", ", ".join(item.labels) or "—"),
            ("Updated", env.when(item.updated_at)),
        ]
    )


@item_app.command("list")
def list_items(
    ctx: typer.Context,
    project: ProjectArg,
    kind: Annotated[ItemKind | None, typer.Option(help="Only items of this kind.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List a project's work items."""
    env = env_of(ctx)
    with env.read() as c:
        items = service.list_items(c, project, kind=kind)
    env.emit(items, list[WorkItem], as_json=as_json, render=lambda: _item_rows(env, items))


@item_app.command("create")
def create_item(
    ctx: typer.Context,
    project: ProjectArg,
    title: Annotated[str, typer.Argument(help="Short title.")],
    kind: Annotated[ItemKind, typer.Option(help="Kind (hypotheses: `hypothesis create`).")] = (
        ItemKind.TASK
    ),
    description: Annotated[str, typer.Option(help="Longer notes.")] = "",
    status: Annotated[
        str | None, typer.Option(help="Board column key to start in; default: the first.")
    ] = None,
    assignee: Annotated[str | None, typer.Option(help="Username.")] = None,
    estimate: Annotated[float | None, typer.Option(help="Estimate, e.g. in days.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="A label; repeat for more.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a work item."""
    env = env_of(ctx)
    data = ItemCreate(
        kind=kind,
        title=title,
        description=description,
        status=status,
        assignee=assignee,
        estimate=estimate,
        labels=label or [],
    )
    with env.write() as c:
        item = service.create_item(c, project, data)
    env.emit(item, WorkItem, as_json=as_json, render=lambda: _item_view(env, item))


@item_app.command("show")
def get_item(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a work item."""
    env = env_of(ctx)
    with env.read() as c:
        item = service.get_item(c, key)
    env.emit(item, WorkItem, as_json=as_json, render=lambda: _item_view(env, item))


@item_app.command("move")
def move_item(
    ctx: typer.Context,
    key: ItemArg,
    status: Annotated[
        str, typer.Argument(help="Board column key, e.g. backlog, ready, in_progress, done.")
    ],
    note: Annotated[str, typer.Option(help="A note for the history.")] = "",
    reason: Annotated[
        str, typer.Option(help="Move past a WIP limit or an unmet Definition of Done anyway.")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Move a work item to another board column (recorded in its history)."""
    env = env_of(ctx)
    data = StatusChange(status=status, note=note, reason=reason)
    with env.write() as c:
        item = board.move_item(c, key, data.status, reason=data.reason, note=data.note)
    env.emit(item, WorkItem, as_json=as_json, render=lambda: f"{item.key} is now {item.status}")


@item_app.command("history")
def item_history(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a work item's history: status moves, verdict changes, edits, links."""
    env = env_of(ctx)
    with env.read() as c:
        events = service.item_history(c, key)
    rows = [
        (env.when(e.at), e.kind, e.from_value or "", e.to_value or "", e.actor or "system", e.note)
        for e in events
    ]
    env.emit(
        events,
        list[ItemEvent],
        as_json=as_json,
        render=lambda: env.table(["At", "Event", "From", "To", "By", "Note"], rows),
    )


def _checks_view(env: CliEnv, key: str, checks: list[ItemCheck]) -> Any:
    if not checks:
        return f"{key.upper()} has no Definition of Done for its kind"
    rows = [
        (
            Text("✓", style="green") if c.checked else Text("✗", style="red"),
            c.text,
            "computed" if c.rule else (c.checked_by or ""),
            env.when(c.checked_at) if c.checked_at else "",
        )
        for c in checks
    ]
    return [
        Text(f"{key.upper()}: Definition of Done", style="bold"),
        env.table(["", "Check", "By", "At"], rows),
    ]


@item_app.command("checks")
def get_checks(ctx: typer.Context, key: ItemArg, as_json: JsonOption = False) -> None:
    """Show a work item's Definition-of-Done checklist."""
    env = env_of(ctx)
    with env.read() as c:
        checks = done.get_checks(c, key)
    env.emit(
        checks, list[ItemCheck], as_json=as_json, render=lambda: _checks_view(env, key, checks)
    )


@item_app.command("check")
def set_check(
    ctx: typer.Context,
    key: ItemArg,
    text: Annotated[str, typer.Argument(help="The check's text, as `item checks` shows it.")],
    uncheck: Annotated[bool, typer.Option("--uncheck", help="Untick it instead.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Tick (or untick) a Definition-of-Done check of a work item."""
    env = env_of(ctx)
    data = CheckIn(text=text, checked=not uncheck)
    with env.write() as c:
        checks = done.set_check(c, key, data.text, data.checked)
    env.emit(
        checks, list[ItemCheck], as_json=as_json, render=lambda: _checks_view(env, key, checks)
    )


def groups() -> list[typer.Typer]:
    return [item_app]
