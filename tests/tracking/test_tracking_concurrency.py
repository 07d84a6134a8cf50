"""Concurrent writers through the app: every request succeeds, nothing is lost.

On SQLite the writes are serialized (one lock in the process, BEGIN IMMEDIATE in the file),
so threads wait instead of failing with "database is locked". PostgreSQL runs the same
test with real concurrency.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn
from loopwise.web.state import SYSTEM

pytestmark = pytest.mark.store

THREADS = 6
BATCHES = 15
POINTS = 20


def test_threads_logging_to_different_runs_all_succeed(app: FastAPI) -> None:
    start = threading.Barrier(THREADS)
    with TestClient(app) as setup:
        assert setup.post("/api/v1/projects", json={"key": "CH", "name": "c"}).status_code == 201
        # The experiment exists up front: this test is about concurrent metric writes.
        experiment = setup.post("/api/v1/projects/CH/experiments", json={"name": "Default"})
        assert experiment.status_code == 201

    def worker(n: int) -> tuple[str, Counter[int]]:
        statuses: Counter[int] = Counter()
        with TestClient(app, raise_server_exceptions=False) as http:
            start.wait(timeout=30)
            created = http.post("/api/v1/projects/CH/runs", json={"name": f"worker-{n}"})
            statuses[created.status_code] += 1
            assert created.status_code == 201, created.text
            run_id = created.json()["id"]
            for b in range(BATCHES):
                points = [
                    {"key": "loss", "value": n + i / 100, "step": b * POINTS + i}
                    for i in range(POINTS)
                ]
                response = http.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points})
                statuses[response.status_code] += 1
                if b % 5 == 0:  # readers interleave with the writers
                    statuses[http.get(f"/api/v1/runs/{run_id}").status_code] += 1
            statuses[http.post(f"/api/v1/runs/{run_id}/finish", json={}).status_code] += 1
        return run_id, statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))

    total: Counter[int] = Counter()
    for _run_id, statuses in results:
        total.update(statuses)
    assert set(total) == {200, 201}, total

    with TestClient(app) as http:
        for n, (run_id, _statuses) in enumerate(results):
            run = http.get(f"/api/v1/runs/{run_id}").json()
            assert run["status"] == "finished"
            assert run["metrics"]["loss"]["step"] == BATCHES * POINTS - 1
            history = http.get(
                f"/api/v1/runs/{run_id}/metric-history", params={"key": "loss"}
            ).json()
            assert [p["step"] for p in history] == list(range(BATCHES * POINTS))
            assert {round(p["value"] - p["step"] % POINTS / 100, 6) for p in history} == {n}
        runs = http.get("/api/v1/projects/CH/runs", params={"limit": 100}).json()
        assert len(runs) == THREADS


def test_threads_logging_to_the_same_run_keep_the_latest_right(app: FastAPI) -> None:
    with TestClient(app) as setup:
        setup.post("/api/v1/projects", json={"key": "CH", "name": "c"})
        run_id = setup.post("/api/v1/projects/CH/runs", json={}).json()["id"]
        # The summary row exists already: concurrent batches update it rather than race to
        # insert it (a lost insert race is a 409 "retry" on PostgreSQL).
        seed = {"metrics": [{"key": "loss", "value": -1.0, "step": -1}]}
        assert setup.post(f"/api/v1/runs/{run_id}/metrics", json=seed).status_code == 200
    start = threading.Barrier(THREADS)

    def worker(n: int) -> list[int]:
        codes = []
        with TestClient(app, raise_server_exceptions=False) as http:
            start.wait(timeout=30)
            for b in range(BATCHES):
                step = b * THREADS + n  # interleaved steps across threads
                point = {"key": "loss", "value": float(step), "step": step}
                response = http.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": [point]})
                codes.append(response.status_code)
        return codes

    with ThreadPoolExecutor(THREADS) as pool:
        codes = [c for result in pool.map(worker, range(THREADS)) for c in result]
    assert set(codes) == {200}
    with TestClient(app) as http:
        latest = http.get(f"/api/v1/runs/{run_id}").json()["metrics"]["loss"]
        history = http.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": "loss"}).json()
    last = BATCHES * THREADS - 1
    assert (latest["step"], latest["value"]) == (last, float(last))
    assert [p["step"] for p in history] == list(range(-1, BATCHES * THREADS))


def test_concurrent_first_requests_share_one_local_user(app: FastAPI) -> None:
    # Regression: on PostgreSQL the first requests of a fresh server raced to create the
    # local user; the losers got a 500 (unique violation) or a 409.
    start = threading.Barrier(8)

    def first_request(_n: int) -> tuple[int, str]:
        with TestClient(app, raise_server_exceptions=False) as http:
            start.wait(timeout=30)
            response = http.get("/api/v1/me")
            return response.status_code, response.text

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(first_request, range(8)))
    assert {code for code, _text in answers} == {200}, answers
    with app.state.loopwise.db.engine.connect() as conn:
        users = conn.execute(sa.text("SELECT username FROM users")).scalars().all()
    assert users == ["local"]


def test_an_older_point_never_overwrites_a_newer_latest_value(app: FastAPI) -> None:
    """Two transactions merge into the same latest-value row, the newer one first.

    Writer A logs step 10 and holds its transaction open; writer B logs step 5 meanwhile.
    B must see A's step 10 once A commits, not the step 0 it could read before.
    """
    state = app.state.loopwise
    with TestClient(app) as http:
        http.post("/api/v1/projects", json={"key": "CH", "name": "c"})
        run_id = http.post("/api/v1/projects/CH/runs", json={}).json()["id"]
        first = {"metrics": [{"key": "loss", "value": 0.0, "step": 0}]}
        assert http.post(f"/api/v1/runs/{run_id}/metrics", json=first).status_code == 200

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

    with TestClient(app) as http:
        latest = http.get(f"/api/v1/runs/{run_id}").json()["metrics"]["loss"]
        history = http.get(f"/api/v1/runs/{run_id}/metric-history", params={"key": "loss"}).json()
    assert (latest["step"], latest["value"]) == (10, 10.0)
    assert [p["step"] for p in history] == [0, 5, 10]
