"""Fill a database at any schema revision with rows in every table, and read them back.

The filler knows nothing about Loopwise's tables: it reflects whatever the revision has and
makes values from each column's type, so a new migration is covered without new code.
Row ``i`` of a child table refers to row ``i`` of each parent table, so composite keys made
of foreign keys stay distinct.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

ROWS = 3
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SKIP = {"alembic_version"}


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table, keyed by table name and primary key."""

    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]]

    def count(self, table: str) -> int:
        return len(self.rows[table])


def reflect(engine: Engine) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    for name in SKIP & set(metadata.tables):
        metadata.remove(metadata.tables[name])
    return metadata


def _value(column: sa.Column[Any], table: str, i: int) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return i % 2 == 0
    if isinstance(kind, sa.Integer):
        return 1000 + i
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0.25 + i
    if isinstance(kind, sa.DateTime):
        return (_EPOCH + timedelta(days=i, hours=1)).replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 1) + timedelta(days=i)
    if isinstance(kind, sa.JSON):
        return {"filled": f"{table}.{column.name}", "i": i}
    if isinstance(kind, sa.LargeBinary):
        return f"{table}.{column.name}.{i}".encode()
    if isinstance(kind, sa.String):
        text = f"{column.name}-{i}-{table}"
        length = getattr(kind, "length", None)
        if length and len(text) > length:
            text = f"{column.name[: max(1, length - 4)]}-{i}"[:length]
        return text
    raise AssertionError(f"history_support: no value for {table}.{column.name} ({kind!r})")


def fill(engine: Engine) -> None:
    """Insert ROWS rows into every table of the database's current schema."""
    metadata = reflect(engine)
    made: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            rows = []
            for i in range(ROWS):
                row = {c.name: _value(c, table.name, i) for c in table.columns}
                for fk in table.foreign_key_constraints:
                    parent = fk.referred_table.name
                    if parent == table.name:  # self-reference: the first row starts a chain
                        for col, element in zip(fk.columns, fk.elements, strict=True):
                            row[col.name] = rows[i - 1][element.column.name] if i else None
                        continue
                    for col, element in zip(fk.columns, fk.elements, strict=True):
                        row[col.name] = made[parent][i][element.column.name]
                rows.append(row)
            conn.execute(table.insert(), rows)
            made[table.name] = rows


def _normal(value: Any) -> Any:
    """Values as comparable plain data, whatever the driver returned."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def snapshot(engine: Engine) -> Snapshot:
    metadata = reflect(engine)
    rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            by_key = {}
            for row in conn.execute(sa.select(table)).mappings():
                values = {name: _normal(value) for name, value in row.items()}
                by_key[tuple(values[k] for k in key)] = values
            rows[table.name] = by_key
    return Snapshot(rows)


def lost_or_changed(before: Snapshot, after: Snapshot) -> list[str]:
    """What the upgrade lost: tables, rows, or values of columns that exist on both sides."""
    problems = []
    for table, rows in before.rows.items():
        if table not in after.rows:
            problems.append(f"table {table} is gone")
            continue
        kept = after.rows[table]
        if len(kept) != len(rows):
            problems.append(f"{table}: {len(rows)} rows before, {len(kept)} after")
        for key, old in rows.items():
            new = kept.get(key)
            if new is None:
                problems.append(f"{table}: row {key} is gone")
                continue
            for column, value in old.items():
                if column in new and new[column] != value:
                    problems.append(f"{table}.{column} of {key}: {value!r} -> {new[column]!r}")
    return problems
