"""``loopwise db``: the schema revision and upgrades; ``loopwise backup`` and ``restore``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from loopwise.console import JsonOption, env_of
from loopwise.db import backup as backups
from loopwise.db.engine import Database
from loopwise.db.migrate import current_revision, head_revision, upgrade

if TYPE_CHECKING:
    from loopwise.console import CliEnv

db_app = typer.Typer(
    name="db", help="Database schema: current revision and upgrades.", no_args_is_help=True
)


def groups() -> list[typer.Typer]:
    return [db_app]


def commands() -> list[tuple[str, Callable[..., Any]]]:
    return [("backup", backup_command), ("restore", restore_command)]


@contextmanager
def _database(env: CliEnv) -> Iterator[Database]:
    # No ensure_current here: these commands exist for databases that are out of date.
    db = Database(
        env.settings.resolved_database_url,
        sqlite_synchronous=env.settings.sqlite_synchronous,
    )
    try:
        yield db
    finally:
        db.dispose()


@db_app.command("upgrade")
def upgrade_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Migrate the database in place to this release's schema; data is kept."""
    env = env_of(ctx)
    copy = None
    with _database(env) as db:
        if current_revision(db.engine) != head_revision(db.engine):
            copy = backups.copy_before_upgrade(db.url, datetime.now(UTC))
            if copy is not None:
                env.note(f"copied the database to {copy} before upgrading")
        before, after = upgrade(db.engine)
    if as_json:
        body = {"before": before, "after": after, "copy": str(copy) if copy else None}
        typer.echo(json.dumps(body, indent=2))
    elif before == after:
        env.console.print(f"database already at revision {after}")
    else:
        env.console.print(f"database upgraded: {before or 'empty'} -> {after}")


@db_app.command("current")
def current_command(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the database's schema revision and the one this release needs."""
    env = env_of(ctx)
    with _database(env) as db:
        current, head = current_revision(db.engine), head_revision(db.engine)
    if as_json:
        body = {"current": current, "head": head, "up_to_date": current == head}
        typer.echo(json.dumps(body, indent=2))
        return
    state = "up to date" if current == head else "out of date: run `loopwise db upgrade`"
    env.console.print(f"revision {current or 'none'} (this release needs {head}; {state})")


def _summary(manifest: backups.Manifest) -> str:
    return (
        f"{manifest.store} database at revision {manifest.revision}: {manifest.rows:,} rows "
        f"in {len(manifest.tables)} tables; {len(manifest.artifacts):,} artifact files "
        f"({manifest.artifact_bytes:,} bytes)"
    )


def backup_command(
    ctx: typer.Context,
    dest: Annotated[Path, typer.Argument(help="New (or empty) folder to write the backup to.")],
    as_json: JsonOption = False,
) -> None:
    """Back up the database and the artifacts to DEST, safely while the server runs.

    SQLite is copied with its online backup API; PostgreSQL is exported table by table
    in one consistent snapshot (no superuser needed). Artifacts are copied with their
    SHA-256 recorded in DEST/manifest.json.
    """
    env = env_of(ctx)
    settings = env.settings
    with env.progress() as reporter:
        manifest = backups.backup(
            settings.resolved_database_url,
            settings.resolved_artifact_root,
            dest,
            now=datetime.now(UTC),
            reporter=reporter,
        )
    if as_json:
        typer.echo(json.dumps({"path": str(dest), **backups.describe(manifest)}, indent=2))
    else:
        env.console.print(f"backup written to {dest}: {_summary(manifest)}")


def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A folder written by `loopwise backup`.")],
    as_json: JsonOption = False,
) -> None:
    """Fill an empty database and artifact folder from the backup in SOURCE.

    The target is the configured database and artifact root (--home, --database-url,
    --artifact-root); both must be empty. Every artifact's SHA-256 and every table's row
    count is checked; on any failure nothing is left behind.
    """
    env = env_of(ctx)
    settings = env.settings
    with env.progress() as reporter:
        manifest = backups.restore(
            source,
            settings.resolved_database_url,
            settings.resolved_artifact_root,
            reporter=reporter,
        )
    head = None
    with _database(env) as db:
        head = head_revision(db.engine)
    if as_json:
        typer.echo(json.dumps({"path": str(source), **backups.describe(manifest)}, indent=2))
    else:
        env.console.print(f"restored from {source}: {_summary(manifest)}")
    if manifest.revision != head:
        env.note(f"this release needs revision {head}: run `loopwise db upgrade` next")
