"""Concurrent writers: every use case succeeds, nothing is lost.

Threads call the tracking service at once, each call in its own transaction as a request
would. On SQLite the writes are serialized (one lock in the process, BEGIN IMMEDIATE in
the file), so threads wait instead of failing with "database is locked". PostgreSQL runs
the same test with real concurrency.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from loopwise.web.state import SYSTEM
from use_cases import UseCases

pytestmark = pytest.mark.store

THREADS = 6
BATCHES = 15
POINTS = 20


def test_threads_logging_to_different_runs_all_succeed(do: UseCases, project: str) -> None:
    # The experiment exists up front: this test is about concurrent metric writes.
    do(tracking.get_or_create_experiment, project, "Default")
    start = threading.Barrier(THREADS)

    def worker(n: int) -> str:
        start.wait(timeout=30)
        run_id = do(tracking.create_run, project, RunCreate(name=f"worker-{n}")).id
        for b in range(BATCHES):
            points = [
                MetricIn(key="loss", value=n + i / 100, step=b * POINTS + i) for i in range(POINTS)
            ]
            assert do(tracking.log_metrics, run_id, points) == POINTS
            if b % 5 == 0:  # readers interleave with the writers
                assert (
                    do.read(tracking.get_run, run_id).metrics["loss"].step == (b + 1) * POINTS - 1
                )
        do(tracking.finish_run, run_id, RunFinish())
        return run_id

    with ThreadPoolExecutor(THREADS) as pool:
        run_ids = list(pool.map(worker, range(THREADS)))  # re-raises any worker's error

    for n, run_id in enumerate(run_ids):
        run = do.read(tracking.get_run, run_id)
        assert run.status == "finished"
        assert run.metrics["loss"].step == BATCHES * POINTS - 1
        history = do.read(tracking.metric_history, run_id, "loss")
        assert [p.step for p in history] == list(range(BATCHES * POINTS))
        assert {round(p.value - p.step % POINTS / 100, 6) for p in history} == {n}
    assert len(do.read(tracking.list_runs, project, limit=100)) == THREADS


def test_threads_logging_to_the_same_run_keep_the_latest_right(do: UseCases, project: str) -> None:
    run_id = do(tracking.create_run, project, RunCreate()).id
    # The summary row exists already: concurrent batches update it rather than race to
    # insert it (a lost insert race is a Conflict "retry" on PostgreSQL).
    do(tracking.log_metrics, run_id, [MetricIn(key="loss", value=-1.0, step=-1)])
    start = threading.Barrier(THREADS)

    def worker(n: int) -> list[int]:
        counts = []
        start.wait(timeout=30)
        for b in range(BATCHES):
            step = b * THREADS + n  # interleaved steps across threads
            point = MetricIn(key="loss", value=float(step), step=step)
            counts.append(do(tracking.log_metrics, run_id, [point]))
        return counts

    with ThreadPoolExecutor(THREADS) as pool:
        counts = [c for result in pool.map(worker, range(THREADS)) for c in result]
    assert counts == [1] * THREADS * BATCHES
    latest = do.read(tracking.get_run, run_id).metrics["loss"]
    history = do.read(tracking.metric_history, run_id, "loss")
    last = BATCHES * THREADS - 1
    assert (latest.step, latest.value) == (last, float(last))
    assert [p.step for p in history] == list(range(-1, BATCHES * THREADS))


def test_an_older_point_never_overwrites_a_newer_latest_value(do: UseCases, project: str) -> None:
    """Two transactions merge into the same latest-value row, the newer one first.

    Writer A logs step 10 and holds its transaction open; writer B logs step 5 meanwhile.
    B must see A's step 10 once A commits, not the step 0 it could read before.
    """
    state = do.state
    run_id = do(tracking.create_run, project, RunCreate()).id
    do(tracking.log_metrics, run_id, [MetricIn(key="loss", value=0.0, step=0)])

    def log(step: int) -> None:
        with state.context(SYSTEM, write=True) as ctx:
            tracking.log_metrics(ctx, run_id, [MetricIn(key="loss", value=step, step=step)])

    with state.context(SYSTEM, write=True) as ctx:  # writer A
        tracking.log_metrics(ctx, run_id, [MetricIn(key="loss", value=10, step=10)])
        writer_b = threading.Thread(target=log, args=(5,))
        writer_b.start()
        time.sleep(0.5)  # B reaches the summary row while A has not committed
    writer_b.join(timeout=30)
    assert not writer_b.is_alive()

    latest = do.read(tracking.get_run, run_id).metrics["loss"]
    history = do.read(tracking.metric_history, run_id, "loss")
    assert (latest.step, latest.value) == (10, 10.0)
    assert [p.step for p in history] == [0, 5, 10]
