"""The metric ingest hot path: points appended by driver-level statements (multi-row
``VALUES``, no per-row ORM or SQL-expression work), and the latest-value summary kept
with one atomic conditional upsert per batch, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter

from sqlalchemy.orm import Session

from loopwise.db import driver

Point = tuple[str, str, int, int, float, bool]  # run_id, key, step, timestamp, value, is_nan


def points(
    run_id: str, now_ms: int, items: Iterable[tuple[str, int, int | None, float]]
) -> list[Point]:
    """Rows from (key, step, timestamp or None, value): a missing timestamp becomes
    ``now_ms``, and NaN is stored as 0.0 with ``is_nan`` set (NaN is the one float with
    ``v != v``). One comprehension, no call per point: this runs for every point logged."""
    return [
        (run_id, key, step, now_ms if ts is None else ts, 0.0 if v != v else v, v != v)
        for key, step, ts, v in items
    ]


_POINT_COLUMNS = ("run_id", "key", "step", "timestamp", "value", "is_nan")


def insert_points(session: Session, points: Sequence[Point]) -> None:
    driver.insert_rows(session, "metrics", _POINT_COLUMNS, points)


_STEP_TIME = itemgetter(2, 3)


def latest_of(points: Iterable[Point]) -> list[Point]:
    """Per (run, key): the point with the highest (step, timestamp); later wins ties.

    A stable sort by (step, timestamp) leaves each key's latest point last among its own,
    and a dict keeps the last value it is given. Points mostly arrive in step order, where
    the sort is one linear pass in C."""
    return list({(p[0], p[1]): p for p in sorted(points, key=_STEP_TIME)}.values())


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
