"""Several workers share the windows queue: each window is checked exactly once per data
change, and a window whose worker died (its lease ran out) is checked by another."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from monitoring_support import KEY, START, frame, write_batch
from sqlalchemy import func, select

from loopwise.app import build_state
from loopwise.core.clock import FrozenClock
from loopwise.core.settings import Settings
from loopwise.db.engine import Database
from loopwise.monitoring import ingest, jobs
from loopwise.monitoring.models import Monitor
from loopwise.monitoring.tables import ResultRow, WindowRow
from loopwise.web.state import SYSTEM, AppState

WINDOWS = 12


@pytest.fixture
def due(write, monitor: Monitor, tmp_path: Path) -> None:  # noqa: ANN001
    """Twelve hourly windows with data, none checked yet."""
    df = frame(WINDOWS * 60, seed=30, every=timedelta(minutes=1))
    with write() as ctx:
        ingest.log_batch(ctx, KEY, "churn", write_batch(df, tmp_path / "b.parquet"))


def _own_state(settings: Settings, clock: FrozenClock) -> AppState:
    """A worker of its own: its own engine and connection pool."""
    return build_state(settings, Database(settings.resolved_database_url), clock)


def test_two_workers_check_each_window_exactly_once(
    due: None, settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "CLAIM", 2)  # small claims, so the workers interleave
    states = [_own_state(settings, clock) for _ in range(2)]
    start = threading.Barrier(2)
    done: dict[str, list[jobs.Claim]] = {}

    def work(name: str, state: AppState) -> None:
        start.wait()
        done[name] = jobs.run_pending(state, worker=name)

    threads = [threading.Thread(target=work, args=(f"w{i}", s)) for i, s in enumerate(states)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        checked = [c.window_start for name in done for c in done[name]]
        assert len(checked) == WINDOWS == len(set(checked))
        with states[0].context(SYSTEM, write=False) as ctx:
            per_window = ctx.session.execute(
                select(ResultRow.window_start, func.count(), func.max(ResultRow.worker))
                .where(ResultRow.scope == "window")
                .group_by(ResultRow.window_start)
            ).all()
            assert len(per_window) == WINDOWS and {n for _, n, _ in per_window} == {1}
            assert (
                ctx.session.scalar(
                    select(func.count())
                    .select_from(WindowRow)
                    .where(WindowRow.checked_generation != WindowRow.generation)
                )
                == 0
            )
    finally:
        for s in states:
            s.db.dispose()


def test_a_window_whose_worker_died_is_checked_by_another(
    due: None, settings: Settings, clock: FrozenClock
) -> None:
    dead, alive = _own_state(settings, clock), _own_state(settings, clock)
    try:
        with dead.context(SYSTEM, write=True) as ctx:
            claimed = jobs.claim(ctx, "dead", limit=1)
        with dead.context(SYSTEM, write=False) as ctx:
            computed = jobs.compute(ctx, claimed[0])
        assert computed is not None
        # ... and the process dies here: its lease holds the window until it runs out
        others = jobs.run_pending(alive, worker="alive")
        assert claimed[0].window_start not in {c.window_start for c in others}
        clock.advance(timedelta(seconds=settings.monitor_lease_seconds + 1))
        (retried,) = jobs.run_pending(alive, worker="alive")
        assert retried.window_start == claimed[0].window_start
        with dead.context(SYSTEM, write=True) as ctx:  # a late store from the dead worker
            assert not jobs.store(ctx, claimed[0], computed, "dead")
        with alive.context(SYSTEM, write=False) as ctx:
            workers = ctx.session.scalars(
                select(ResultRow.worker).where(ResultRow.window_start == retried.window_start)
            ).all()
            assert workers == ["alive"]
    finally:
        dead.db.dispose()
        alive.db.dispose()


def test_the_embedded_schedule_checks_due_windows_in_one_transaction(
    due: None, state: AppState
) -> None:
    with state.context(SYSTEM, write=True) as ctx:
        assert jobs.check_due(ctx) == WINDOWS
    with state.context(SYSTEM, write=True) as ctx:
        assert jobs.check_due(ctx) == 0
    assert START  # windows start at the fixture's Monday
