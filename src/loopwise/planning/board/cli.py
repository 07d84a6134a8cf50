"""``loopwise board``: the board, its columns and WIP limits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

from loopwise.console import JsonOption, ProjectArg, env_of
from loopwise.core.errors import InvalidInput
from loopwise.planning.board import service as board
from loopwise.planning.board.models import Board, Column
from loopwise.planning.board.schemas import WipLimitIn
from loopwise.planning.cli_args import VERDICT_STYLE
from loopwise.planning.items.models import ItemKind

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


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} d"


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
                notes.append(Text(card.verdict.value, style=VERDICT_STYLE.get(card.verdict, "")))
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
    env = env_of(ctx)
    where = board.BoardFilter(kind=kind, assignee=assignee, label=label, cycle=cycle)
    with env.read() as c:
        shown = board.board(c, project, where)
    filtered = any(v is not None for v in (kind, assignee, label, cycle))
    env.emit(shown, Board, as_json=as_json, render=lambda: _board_view(env, shown, filtered))


@board_app.command("columns")
def get_columns(ctx: typer.Context, project: ProjectArg, as_json: JsonOption = False) -> None:
    """List the board's columns: key, name, category and WIP limit."""
    env = env_of(ctx)
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
    env = env_of(ctx)
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


def groups() -> list[typer.Typer]:
    return [board_app]
