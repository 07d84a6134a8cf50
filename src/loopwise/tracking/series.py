"""Reading long metric series: columnar pages and downsampled charts.

Pages read through the driver directly (no per-row ORM objects), so a page of a million
points costs one query and three lists. Charts are bucketed inside the database: each of
at most ``points`` buckets returns its step range, minimum, maximum and count, so spikes
survive and a million-point series never leaves the database whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import text

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.types import JsonFloat, json_float
from loopwise.db import driver
from loopwise.tracking import service as tracking


@dataclass(frozen=True)
class Columns:
    key: str
    steps: list[int]
    timestamps: list[int]
    values: list[JsonFloat]
    next_offset: int | None


@dataclass(frozen=True)
class Bucket:
    step_min: int
    step_max: int
    min: JsonFloat
    max: JsonFloat
    count: int


@dataclass(frozen=True)
class Chart:
    key: str
    total: int  # points in the series
    nan_count: int
    exact: bool  # True: buckets are single points (no downsampling)
    buckets: list[Bucket]


_PAGE = (
    "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_id = ? AND key = ? "
    "ORDER BY step, timestamp, id LIMIT ? OFFSET ?"
)


def page(
    ctx: Context, run_id: str, key: str, *, offset: int = 0, limit: int = 25_000
) -> list[tuple[int, int, float, bool]]:
    """(step, timestamp, value, is_nan) rows in series order, read straight from the
    covering index by the driver: no per-point objects."""
    tracking.run_project_id(ctx, run_id, Role.VIEWER)
    return driver.fetch_all(ctx.session, _PAGE, (run_id, key, limit, offset))


def columns(
    ctx: Context, run_id: str, key: str, *, offset: int = 0, limit: int = 1_000_000
) -> Columns:
    rows = page(ctx, run_id, key, offset=offset, limit=limit + 1)
    more = len(rows) > limit
    del rows[limit:]
    return Columns(
        key=key,
        steps=[r[0] for r in rows],
        timestamps=[r[1] for r in rows],
        values=[math.nan if r[3] else r[2] for r in rows],
        next_offset=offset + limit if more else None,
    )


def columns_json(columns: Columns) -> bytes:
    """The page as JSON, fast: non-finite values spelled "NaN", "Infinity", "-Infinity"
    as everywhere else in the API (a finite v is the only kind with v - v == 0)."""
    values = [v if v - v == 0 else json_float(v) for v in columns.values]
    return orjson.dumps(
        {
            "key": columns.key,
            "steps": columns.steps,
            "timestamps": columns.timestamps,
            "values": values,
            "next_offset": columns.next_offset,
        }
    )


def _bounds(lo: int, hi: int, points: int) -> list[tuple[int, int]]:
    """Integer step ranges [first, last] cutting [lo, hi] into at most ``points`` buckets:
    bucket i holds the steps with floor((step - lo) * points / (hi - lo + 1)) == i."""
    span = hi - lo + 1
    starts = [lo - (-i * span // points) for i in range(points + 1)]  # lo + ceil(i*span/points)
    return [(a, b - 1) for a, b in zip(starts, starts[1:], strict=False) if b > a]


_BUCKETS_SQLITE = (
    # The bucket table is the outer loop, scanned in primary-key order, so the GROUP BY
    # needs no sort: each bucket is one index range scan of the series.
    "SELECT MIN(CASE WHEN m.is_nan THEN NULL ELSE m.step END), "
    "MAX(CASE WHEN m.is_nan THEN NULL ELSE m.step END), "
    "MIN(CASE WHEN m.is_nan THEN NULL ELSE m.value END), "
    "MAX(CASE WHEN m.is_nan THEN NULL ELSE m.value END), "
    "COUNT(*), SUM(CASE WHEN m.is_nan THEN 1 ELSE 0 END) "
    "FROM temp.loopwise_chart_buckets AS b CROSS JOIN metrics AS m "
    "WHERE m.run_id = :run AND m.key = :key AND m.step BETWEEN b.lo AND b.hi "
    "GROUP BY b.lo ORDER BY b.lo"
)
_BUCKETS_POSTGRESQL = (
    "SELECT a.* FROM unnest(CAST(:los AS BIGINT[]), CAST(:his AS BIGINT[])) AS b(lo, hi) "
    "CROSS JOIN LATERAL (SELECT MIN(step) FILTER (WHERE NOT is_nan) AS step_min, "
    "MAX(step) FILTER (WHERE NOT is_nan) AS step_max, "
    "MIN(value) FILTER (WHERE NOT is_nan) AS low, MAX(value) FILTER (WHERE NOT is_nan) AS high, "
    "COUNT(*) AS points, COUNT(*) FILTER (WHERE is_nan) AS nans FROM metrics "
    "WHERE run_id = :run AND key = :key AND step BETWEEN b.lo AND b.hi) AS a "
    "WHERE a.points > 0 ORDER BY b.lo"
)


def _bucket_rows(
    ctx: Context, params: dict[str, object], ranges: list[tuple[int, int]]
) -> list[tuple[Any, ...]]:
    session = ctx.session
    if session.get_bind().dialect.name == "sqlite":
        conn = session.connection()
        # A per-connection temporary table: writing it takes no lock on the database.
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS loopwise_chart_buckets "
            "(lo INTEGER PRIMARY KEY, hi INTEGER NOT NULL)"
        )
        conn.exec_driver_sql("DELETE FROM temp.loopwise_chart_buckets")
        conn.exec_driver_sql("INSERT INTO temp.loopwise_chart_buckets VALUES (?, ?)", ranges)
        rows = [tuple(r) for r in session.execute(text(_BUCKETS_SQLITE), params)]
        conn.exec_driver_sql("DELETE FROM temp.loopwise_chart_buckets")
        return rows
    los, his = [r[0] for r in ranges], [r[1] for r in ranges]
    result = session.execute(text(_BUCKETS_POSTGRESQL), {**params, "los": los, "his": his})
    return [tuple(r) for r in result]


def chart(ctx: Context, run_id: str, key: str, *, points: int = 2000) -> Chart:
    """At most ``points`` buckets of the series (step range, min, max, count of non-NaN
    points); every point when there are no more non-NaN points than that.

    The cost is one pass over the series' index range, without sorting it: the step
    bounds come from the index ends and each bucket is a range scan.
    """
    tracking.run_project_id(ctx, run_id, Role.VIEWER)
    params: dict[str, object] = {"run": run_id, "key": key}
    where = "FROM metrics WHERE run_id = :run AND key = :key"
    lo, hi, capped = ctx.session.execute(
        text(
            f"SELECT (SELECT MIN(step) {where}), (SELECT MAX(step) {where}), "
            f"(SELECT COUNT(*) FROM (SELECT 1 {where} LIMIT :cap) AS head)"
        ),
        {**params, "cap": points + 1},
    ).one()
    if lo is None:
        return Chart(key, 0, 0, True, [])
    if capped <= points:
        return _exact(ctx, key, params)
    rows = _bucket_rows(ctx, params, _bounds(int(lo), int(hi), points))
    total = sum(int(r[4]) for r in rows)
    nans = sum(int(r[5] or 0) for r in rows)
    if total - nans <= points:
        return _exact(ctx, key, params)
    buckets = [
        Bucket(r[0], r[1], r[2], r[3], int(r[4]) - int(r[5] or 0))
        for r in rows
        if int(r[4]) > int(r[5] or 0)
    ]
    return Chart(key, total, nans, False, buckets)


def _exact(ctx: Context, key: str, params: dict[str, object]) -> Chart:
    rows = ctx.session.execute(
        text(
            "SELECT step, value, is_nan FROM metrics WHERE run_id = :run AND key = :key "
            "ORDER BY step, timestamp, id"
        ),
        params,
    ).all()
    buckets = [Bucket(s, s, v, v, 1) for s, v, nan in rows if not nan]
    return Chart(key, len(rows), len(rows) - len(buckets), True, buckets)


# --- sampled histories (MLflow's get-history-bulk-interval) --------------------------------


def sample_indices(total: int, wanted: int) -> list[int]:
    """Which of ``total`` ordered points a sample of at most ``wanted`` keeps: the first
    point of each of ``wanted`` near-equal buckets (SQL's NTILE), the last bucket's first
    point swapped for the series' last point so both ends survive. Every point when there
    are no more than ``wanted``. Pure: MLflow's server samples the same way."""
    if total <= 0 or wanted <= 0:
        return []
    if total <= wanted:
        return list(range(total))
    size, extra = divmod(total, wanted)
    starts = [i * size + min(i, extra) for i in range(wanted)]
    return [*starts[:-1], total - 1]


_RANGE = (
    "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_id = ? AND key = ? "
    "AND step BETWEEN ? AND ? ORDER BY step, timestamp, id"
)
_STEP_LIMIT = 2**62


def sampled(
    ctx: Context,
    run_id: str,
    key: str,
    wanted: int,
    steps: tuple[int, int] | None = None,
) -> list[tuple[int, int, float, bool]]:
    """At most ``wanted`` (step, timestamp, value, is_nan) rows of the series, evenly
    sampled in series order (``sample_indices``), within ``steps`` (inclusive) if given."""
    tracking.run_project_id(ctx, run_id, Role.VIEWER)
    lo, hi = steps if steps is not None else (-_STEP_LIMIT, _STEP_LIMIT)
    rows = driver.fetch_all(ctx.session, _RANGE, (run_id, key, lo, hi))
    return [rows[i] for i in sample_indices(len(rows), wanted)]
