"""Every revision of the schema upgrades to head keeping every row of every table.

A database is built at each revision from 0001, filled with rows in every table its
schema has (reflected, so a new migration is covered with no new test code), upgraded to
head, and compared table by table, row by row, value by value.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from history_support import ROWS, fill, lost_or_changed, reflect, snapshot

from loopwise.core.errors import MigrationFailed
from loopwise.db.engine import Database
from loopwise.db.migrate import alembic_config, current_revision, head_revision, upgrade


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config(None))  # type: ignore[arg-type]
    return [r.revision for r in reversed(list(script.walk_revisions()))]


REVISIONS = _revisions()


def test_history_is_linear_from_0001() -> None:
    assert REVISIONS[0] == "0001"
    assert len(REVISIONS) == len(set(REVISIONS)) >= 6


@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_upgrade_from_every_revision_keeps_every_row(
    empty_database_url: str, revision: str
) -> None:
    db = Database(empty_database_url)
    try:
        upgrade(db.engine, revision)
        assert current_revision(db.engine) == revision
        fill(db.engine)
        before = snapshot(db.engine)
        assert all(before.count(t) == ROWS for t in before.rows), "every table filled"
        assert len(before.rows) == len(reflect(db.engine).tables)

        upgrade(db.engine)

        assert current_revision(db.engine) == head_revision(db.engine)
        assert lost_or_changed(before, snapshot(db.engine)) == []
    finally:
        db.dispose()


_BREAKING_HISTORY = {
    "0001_parents.py": """
revision, down_revision, branch_labels, depends_on = "0001", None, None, None
import sqlalchemy as sa
from alembic import op

def upgrade():
    op.create_table("parent", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table(
        "child",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")),
    )
    op.execute("INSERT INTO parent (id) VALUES (1), (2)")
    op.execute("INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2)")
""",
    "0002_breaks.py": """
revision, down_revision, branch_labels, depends_on = "0002", "0001", None, None
from alembic import op

def upgrade():
    op.execute("DELETE FROM parent WHERE id = 2")  # a bug: child 20 now points nowhere
""",
}


def test_sqlite_upgrade_that_breaks_references_is_refused_and_rolled_back(
    tmp_path: Path,
) -> None:
    """The real env.py over a scratch history whose second revision orphans a row."""
    import loopwise.db.migrations as shipped

    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    shutil.copy(Path(shipped.__file__).parent / "env.py", scripts / "env.py")
    for name, text in _BREAKING_HISTORY.items():
        (scripts / "versions" / name).write_text(text)
    db = Database(f"sqlite:///{tmp_path / 'scratch.db'}")
    cfg = alembic_config(db.engine)
    cfg.set_main_option("script_location", str(scripts))
    try:
        command.upgrade(cfg, "0001")
        with pytest.raises(MigrationFailed, match=r"1 rows pointing at missing rows"):
            command.upgrade(cfg, "0002")
        assert current_revision(db.engine) == "0001"
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT id FROM parent ORDER BY id").all() == [(1,), (2,)]
    finally:
        db.dispose()
