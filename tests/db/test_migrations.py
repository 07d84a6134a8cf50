"""The Alembic history produces exactly the tables the code defines, on every backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from loopwise.core.errors import DatabaseOutOfDate
from loopwise.db.base import Base
from loopwise.db.engine import Database
from loopwise.db.migrate import (
    alembic_config,
    current_revision,
    ensure_current,
    head_revision,
    upgrade,
)
from loopwise.slices import load_tables


def test_migrations_match_table_definitions(database_url: str) -> None:
    load_tables()
    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"migrations and tables differ: {diff}"
        assert current_revision(db.engine) == head_revision(db.engine)
    finally:
        db.dispose()


def test_upgrade_in_place_keeps_data(database_url: str) -> None:
    """An older database (first revision, with data) upgrades to head in place."""
    db = Database(database_url)
    try:
        command.downgrade(alembic_config(db.engine), "0001")
        assert current_revision(db.engine) == "0001"
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, username, display_name, is_admin, created_at) "
                    "VALUES ('usr_1', 'ada', 'Ada', false, '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO projects (id, key, name, description, phase, charter, "
                    "next_item_number, created_at, updated_at) VALUES ('prj_1', 'OLD', 'Old', "
                    "'', 'modeling', '{}', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO experiments (id, project_id, name, created_at) VALUES "
                    "('exp_1', 'prj_1', 'Default', '2026-01-01 00:00:00')"
                )
            )
        with pytest.raises(DatabaseOutOfDate):
            ensure_current(db.engine)
        before, after = upgrade(db.engine)
        assert (before, after) == ("0001", head_revision(db.engine))
        ensure_current(db.engine)
        with db.engine.connect() as conn:
            names = conn.execute(sa.text("SELECT username FROM users")).scalars().all()
            project = conn.execute(sa.text("SELECT key, cycle_days FROM projects")).one()
            numbers = conn.execute(sa.text("SELECT number FROM experiments")).scalars().all()
        assert names == ["ada"]
        assert numbers == [1]  # numbered for MLflow clients by the upgrade
        assert tuple(project) == ("OLD", 21)
    finally:
        db.dispose()
