"""Driver-level statements for the few hot paths (metric ingest and series reads), where
building SQLAlchemy rows or ORM objects per point would cost more than the database.

Statements are written with ``?`` placeholders; PostgreSQL's driver gets ``%s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session


def _sql(session: Session, statement: str) -> tuple[Any, str]:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        statement = statement.replace("?", "%s")
    return conn, statement


def execute_many(session: Session, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """One statement run for every row with the driver's ``executemany``."""
    if rows:
        conn, statement = _sql(session, statement)
        conn.exec_driver_sql(statement, list(rows))


def fetch_all(session: Session, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Plain tuples from the driver's cursor, in the session's transaction."""
    conn, statement = _sql(session, statement)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(statement, tuple(params))
        return cursor.fetchall()
    finally:
        cursor.close()
