"""Insert-if-missing for get-or-create paths that concurrent requests take at once.

``SELECT`` then ``INSERT`` races on PostgreSQL: two transactions both see nothing, both
insert, and the loser's unique violation aborts its whole transaction (a 500, or a
"key is taken" for something the caller only wanted to exist). ``INSERT ... ON CONFLICT
DO NOTHING`` waits for the other transaction instead and then inserts nothing, with no
error and no savepoint; the caller reads the winner's row with a plain ``SELECT`` (under
READ COMMITTED each statement sees what committed before it). SQLite serializes writers,
so there the statement only saves the caller a lookup.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_missing(session: Session, entity: Any, values: dict[str, Any]) -> bool:
    """Insert one row unless it collides with a stored row on any unique constraint.

    True when this call inserted it; False when a row with one of its unique values
    exists (perhaps committed a moment ago by a concurrent transaction)."""
    dialect = session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # preserve_rowcount: SQLAlchemy 2.1 reports -1 for an INSERT's rowcount on psycopg
    # unless asked to keep the driver's count (which made every insert look refused there)
    result = session.execute(
        insert(entity).values(**values).on_conflict_do_nothing(),
        execution_options={"preserve_rowcount": True},
    )
    # SQLAlchemy types Session.execute as returning Result; for an INSERT it is a
    # CursorResult, which has rowcount
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
