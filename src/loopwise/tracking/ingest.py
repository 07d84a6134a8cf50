"""The metric ingest hot path: points appended with the driver's own ``executemany``
(no per-row ORM or SQL-expression work), and the latest-value summary kept with one
atomic conditional upsert per batch, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from loopwise.db import driver

Point = tuple[str, str, int, int, float, bool]  # run_id, key, step, timestamp, value, is_nan


def point(run_id: str, key: str, step: int, timestamp: int, value: float) -> Point:
    nan = math.isnan(value)
    return (run_id, key, step, timestamp, 0.0 if nan else value, nan)


def insert_points(session: Session, points: Sequence[Point]) -> None:
    driver.execute_many(
        session,
        "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        points,
    )


def latest_of(points: Iterable[Point]) -> list[Point]:
    """Per (run, key): the point with the highest (step, timestamp); later wins ties."""
    best: dict[tuple[str, str], Point] = {}
    for p in points:
        cur = best.get((p[0], p[1]))
        if cur is None or (p[2], p[3]) >= (cur[2], cur[3]):
            best[(p[0], p[1])] = p
    return list(best.values())


def upsert_latest(session: Session, points: Sequence[Point], experiment_id: str) -> None:
    """Merge batch-latest points into the summary, keeping whichever is newer. The
    comparison happens inside the database, row by row, so concurrent writers on
    PostgreSQL cannot overwrite a newer point with an older one. One fixed statement run
    with the driver's ``executemany``: nothing to build or compile per batch."""
    driver.execute_many(session, _UPSERT_LATEST, [(*p, experiment_id) for p in points])


_UPSERT_LATEST = (
    "INSERT INTO latest_metrics (run_id, key, step, timestamp, value, is_nan, experiment_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, "
    "timestamp = excluded.timestamp, value = excluded.value, is_nan = excluded.is_nan "
    "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step "
    "AND excluded.timestamp >= latest_metrics.timestamp)"
)
