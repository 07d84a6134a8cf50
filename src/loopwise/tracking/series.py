"""Reading long metric series: columnar pages and downsampled charts.

Pages read through the driver directly (no per-row ORM objects), so a page of a million
points costs one query and three lists. Charts are bucketed inside the database: each of
at most ``points`` buckets returns its step range, minimum, maximum and count, so spikes
survive and a million-point series never leaves the database whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import text

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.types import JsonFloat
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


def columns(
    ctx: Context, run_id: str, key: str, *, offset: int = 0, limit: int = 1_000_000
) -> Columns:
    tracking.run_project_id(ctx, run_id, Role.VIEWER)
    rows = ctx.session.execute(
        text(
            "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_id = :run AND key = :key "
            "ORDER BY step, timestamp, id LIMIT :limit OFFSET :offset"
        ),
        {"run": run_id, "key": key, "limit": limit + 1, "offset": offset},
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return Columns(
        key=key,
        steps=[r[0] for r in rows],
        timestamps=[r[1] for r in rows],
        values=[math.nan if r[3] else r[2] for r in rows],
        next_offset=offset + limit if more else None,
    )


def chart(ctx: Context, run_id: str, key: str, *, points: int = 2000) -> Chart:
    tracking.run_project_id(ctx, run_id, Role.VIEWER)
    params = {"run": run_id, "key": key}
    lo, hi, total, nans = ctx.session.execute(
        text(
            "SELECT MIN(step), MAX(step), COUNT(*), "
            "SUM(CASE WHEN is_nan THEN 1 ELSE 0 END) FROM metrics "
            "WHERE run_id = :run AND key = :key"
        ),
        params,
    ).one()
    total, nans = int(total or 0), int(nans or 0)
    if total - nans <= points:
        rows = ctx.session.execute(
            text(
                "SELECT step, value FROM metrics WHERE run_id = :run AND key = :key "
                "AND NOT is_nan ORDER BY step, timestamp, id"
            ),
            params,
        ).all()
        buckets = [Bucket(s, s, v, v, 1) for s, v in rows]
        return Chart(key, total, nans, True, buckets)
    width = (hi - lo + 1) / points
    # SQLite's CAST truncates; PostgreSQL's rounds, so it needs FLOOR.
    sqlite = ctx.session.get_bind().dialect.name == "sqlite"
    bucket = "CAST((step - :lo) / :width AS INTEGER)" if sqlite else "FLOOR((step - :lo) / :width)"
    rows = ctx.session.execute(
        text(
            f"SELECT {bucket} AS b, MIN(step), MAX(step), "
            "MIN(value), MAX(value), COUNT(*) FROM metrics "
            "WHERE run_id = :run AND key = :key AND NOT is_nan GROUP BY b ORDER BY b"
        ),
        {**params, "lo": lo, "width": width},
    ).all()
    buckets = [Bucket(r[1], r[2], r[3], r[4], r[5]) for r in rows]
    return Chart(key, total, nans, False, buckets)
