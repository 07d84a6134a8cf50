"""Running the checks: on ingest, on the server's schedule, and in ``loopwise worker``.

The windows table is the queue (``tables.WindowRow``). A window is due when its data
changed since its last result (``generation > checked_generation``) and nobody holds an
unexpired lease on it. Three steps, each its own transaction in a worker:

1. claim: ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's single writer
   serialises claims) picks due windows and writes this worker's lease on them;
2. compute: read the window's profiles and predictions, judge them (no lock held);
3. store: lock the monitor's row, keep the result only if the lease is still this
   worker's, mark the generation checked, release the lease, decide the alerts.

A window is therefore checked once per generation: two workers never hold one lease, a
result is stored under the lease (and a unique key on window and generation backs it),
and a worker killed mid-check leaves a lease that expires, after which another worker
claims the window again. The embedded server runs the same steps in one transaction on
its schedule (``check_due``, a ``Periodic`` of the slice).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from loopwise.core.context import Context
from loopwise.monitoring import alerts, checks
from loopwise.monitoring.checks import Computed
from loopwise.monitoring.models import Scope
from loopwise.monitoring.service import to_monitor
from loopwise.monitoring.tables import MonitorRow, WindowRow
from loopwise.web.state import SYSTEM, AppState

log = logging.getLogger("loopwise.monitoring")
CLAIM = 20  # windows claimed at once


@dataclass(frozen=True)
class Claim:
    monitor_id: str
    window_start: datetime
    window_end: datetime
    generation: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def claim(
    ctx: Context, worker: str, *, limit: int = CLAIM, monitor_id: str | None = None
) -> list[Claim]:
    now = ctx.clock.now()
    lease = timedelta(seconds=ctx.settings.monitor_lease_seconds)
    query = (
        select(WindowRow)
        .join(MonitorRow, MonitorRow.id == WindowRow.monitor_id)
        .where(
            MonitorRow.active.is_(True),
            WindowRow.generation > WindowRow.checked_generation,
            or_(WindowRow.lease_until.is_(None), WindowRow.lease_until < now),
        )
        .order_by(WindowRow.window_start, WindowRow.monitor_id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WindowRow)
    )
    if monitor_id is not None:
        query = query.where(WindowRow.monitor_id == monitor_id)
    claimed = []
    for w in ctx.session.scalars(query):
        w.lease_owner, w.lease_until = worker, now + lease
        w.attempts += 1
        claimed.append(Claim(w.monitor_id, w.window_start, w.window_end, w.generation))
    ctx.session.flush()
    return claimed


def compute(ctx: Context, job: Claim) -> Computed | None:
    row = ctx.session.get(MonitorRow, job.monitor_id)
    if row is None:  # deleted meanwhile
        return None
    monitor = to_monitor(ctx, row)
    return checks.compute_window(
        ctx, row, monitor, job.window_start, job.window_end, job.generation
    )


def store(ctx: Context, job: Claim, computed: Computed, worker: str) -> bool:
    """Keep the result if this worker still holds the lease; False when it lost it."""
    row = ctx.session.scalar(
        select(MonitorRow).where(MonitorRow.id == job.monitor_id).with_for_update()
    )
    if row is None:
        return False
    window = ctx.session.scalar(
        select(WindowRow)
        .where(WindowRow.monitor_id == job.monitor_id, WindowRow.window_start == job.window_start)
        .with_for_update()
    )
    if (
        window is None
        or window.lease_owner != worker
        or window.checked_generation >= job.generation
    ):
        return False
    result = checks.store(ctx, row, computed, scope=Scope.WINDOW, worker=worker)
    window.checked_generation = job.generation
    window.lease_owner, window.lease_until = None, None
    window.attempts = 0
    window.updated_at = ctx.clock.now()
    alerts.apply(ctx, row, to_monitor(ctx, row), result)
    return True


def check_due(ctx: Context) -> int:
    """The embedded server's scheduled job: every due window, in this one transaction."""
    worker, done = worker_name(), 0
    while jobs := claim(ctx, worker):
        for job in jobs:
            computed = compute(ctx, job)
            if computed is not None and store(ctx, job, computed, worker):
                done += 1
    return done


def run_pending(
    state: AppState,
    *,
    worker: str | None = None,
    monitor_id: str | None = None,
    limit: int | None = None,
) -> list[Claim]:
    """Check due windows, each step its own transaction (``loopwise worker``, and the
    checks run after an ingest); returns the windows this worker stored results for."""
    worker = worker or worker_name()
    stored: list[Claim] = []
    while limit is None or len(stored) < limit:
        with state.context(SYSTEM, write=True) as ctx:
            jobs = claim(ctx, worker, monitor_id=monitor_id, limit=min(CLAIM, limit or CLAIM))
        if not jobs:
            break
        for job in jobs:
            try:
                with state.context(SYSTEM, write=False) as ctx:
                    computed = compute(ctx, job)
                if computed is None:
                    continue
                with state.context(SYSTEM, write=True) as ctx:
                    if store(ctx, job, computed, worker):
                        stored.append(job)
            except Exception:  # one bad window must not stop the others; its lease expires
                log.exception("check of %s %s failed", job.monitor_id, job.window_start)
    return stored


def release(ctx: Context, worker: str) -> int:
    """Give back this worker's leases (a clean shutdown)."""
    result = ctx.session.execute(
        update(WindowRow)
        .where(WindowRow.lease_owner == worker)
        .values(lease_owner=None, lease_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
