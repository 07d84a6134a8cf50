"""The metric ingest hot path: points appended with the driver's own ``executemany``
(no per-row ORM or SQL-expression work), and the latest-value summary kept with one
atomic conditional upsert per batch, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from loopwise.tracking.tables import LatestMetricRow

Point = tuple[str, str, int, int, float, bool]  # run_id, key, step, timestamp, value, is_nan
_LATEST = LatestMetricRow.__table__
UPSERT_CHUNK = 1000


def point(run_id: str, key: str, step: int, timestamp: int, value: float) -> Point:
    nan = math.isnan(value)
    return (run_id, key, step, timestamp, 0.0 if nan else value, nan)


def insert_points(session: Session, points: Sequence[Point]) -> None:
    if not points:
        return
    conn = session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) "
        f"VALUES ({', '.join([mark] * 6)})"
    )
    conn.exec_driver_sql(sql, list(points))


def latest_of(points: Iterable[Point]) -> list[Point]:
    """Per (run, key): the point with the highest (step, timestamp); later wins ties."""
    best: dict[tuple[str, str], Point] = {}
    for p in points:
        cur = best.get((p[0], p[1]))
        if cur is None or (p[2], p[3]) >= (cur[2], cur[3]):
            best[(p[0], p[1])] = p
    return list(best.values())


def upsert_latest(session: Session, points: Sequence[Point]) -> None:
    """Merge batch-latest points into the summary, keeping whichever is newer. The
    comparison happens inside the database, row by row, so concurrent writers on
    PostgreSQL cannot overwrite a newer point with an older one."""
    if not points:
        return
    dialect = session.connection().dialect.name
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    for i in range(0, len(points), UPSERT_CHUNK):
        rows = [
            {
                "run_id": p[0],
                "key": p[1],
                "step": p[2],
                "timestamp": p[3],
                "value": p[4],
                "is_nan": p[5],
            }
            for p in points[i : i + UPSERT_CHUNK]
        ]
        stmt = insert(_LATEST).values(rows)
        new = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[_LATEST.c.run_id, _LATEST.c.key],
            set_={
                "step": new.step,
                "timestamp": new.timestamp,
                "value": new.value,
                "is_nan": new.is_nan,
            },
            where=or_(
                new.step > _LATEST.c.step,
                and_(new.step == _LATEST.c.step, new.timestamp >= _LATEST.c.timestamp),
            ),
        )
        session.execute(stmt)
