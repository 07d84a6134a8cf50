"""``loopwise db``: the schema revision of the configured database, and upgrades."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from loopwise.db.engine import Database
from loopwise.db.migrate import current_revision, head_revision, upgrade

if TYPE_CHECKING:
    from loopwise.cli import CliEnv

db_app = typer.Typer(
    name="db", help="Database schema: current revision and upgrades.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def groups() -> list[typer.Typer]:
    return [db_app]


def _env(ctx: typer.Context) -> CliEnv:
    env: CliEnv = ctx.obj
    return env


@contextmanager
def _database(env: CliEnv) -> Iterator[Database]:
    # No ensure_current here: these commands exist for databases that are out of date.
    db = Database(env.settings.resolved_database_url)
    try:
        yield db
    finally:
        db.dispose()


@db_app.command("upgrade")
def upgrade_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Migrate the database in place to this release's schema; data is kept."""
    env = _env(ctx)
    with _database(env) as db:
        before, after = upgrade(db.engine)
    if as_json:
        typer.echo(json.dumps({"before": before, "after": after}, indent=2))
    elif before == after:
        env.console.print(f"database already at revision {after}")
    else:
        env.console.print(f"database upgraded: {before or 'empty'} -> {after}")


@db_app.command("current")
def current_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the database's schema revision and the one this release needs."""
    env = _env(ctx)
    with _database(env) as db:
        current, head = current_revision(db.engine), head_revision(db.engine)
    if as_json:
        body = {"current": current, "head": head, "up_to_date": current == head}
        typer.echo(json.dumps(body, indent=2))
        return
    state = "up to date" if current == head else "out of date: run `loopwise db upgrade`"
    env.console.print(f"revision {current or 'none'} (this release needs {head}; {state})")
