"""Alembic, driven from code with the history shipped inside the package."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from loopwise.core.errors import DatabaseOutOfDate


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "loopwise.db:migrations")
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    """The newest revision this package ships (the engine does not change it)."""
    return _shipped_head()


@cache
def _shipped_head() -> str | None:
    # Reading the history compiles every revision file (~45 ms); it cannot change while
    # the process runs, and every app start asks.
    cfg = Config()
    cfg.set_main_option("script_location", "loopwise.db:migrations")
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate in place; returns (before, after) revisions."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    return before, current_revision(engine)


def ensure_current(engine: Engine, *, create_if_empty: bool = True) -> None:
    """Create a fresh database at head; refuse to run on an out-of-date one."""
    current = current_revision(engine)
    head = head_revision(engine)
    if current == head:
        return
    if current is None and create_if_empty and _is_empty(engine):
        upgrade(engine)
        return
    raise DatabaseOutOfDate(
        f"database is at revision {current or 'none'}, this release needs {head}: "
        "run `loopwise db upgrade`"
    )


def _is_empty(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return not inspect(engine).get_table_names()
