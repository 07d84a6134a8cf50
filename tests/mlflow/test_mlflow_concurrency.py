"""Eight MLflow clients start the first runs of a fresh database at the same moment.

The MLflow door creates the ``MLFLOW`` project and the experiment on first use; done
at once by several clients this must be idempotent: every client succeeds, and there is
one project and one experiment afterwards. A live server on loopback, the real client,
a barrier so the requests overlap (on PostgreSQL they run in parallel transactions).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from mlflow.exceptions import MlflowException

from loopwise import Client
from loopwise.projects.tables import ProjectRow
from loopwise.tracking.tables import ExperimentRow, RunRow
from mlflow import MlflowClient

pytestmark = [pytest.mark.store, pytest.mark.filterwarnings("ignore")]
CLIENTS = 8


@pytest.fixture(params=["fresh database", "project exists"])
def server(request: pytest.FixtureRequest, tracking_uri: str) -> str:
    """The live server's URL; with the MLFLOW project made beforehand in the second case,
    so the clients race only for the experiment."""
    if request.param == "project exists":
        with Client(tracking_uri) as client:
            client.create_project("MLFLOW", "MLflow experiments")
    return tracking_uri


def at_once(work: Callable[[], str]) -> list[str]:
    """Run ``work`` on CLIENTS threads released together; every failure is reported."""
    barrier = threading.Barrier(CLIENTS)
    results: list[Any] = [None] * CLIENTS

    def one(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = work()
        except Exception as exc:  # reported below, with every other client's outcome
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failures = [f"{type(r).__name__}: {str(r)[:300]}" for r in results if not isinstance(r, str)]
    assert not failures, "\n".join(failures)
    return results


def stored(app: FastAPI) -> tuple[list[str], list[tuple[str, int | None]], int]:
    with app.state.loopwise.db.engine.connect() as conn:
        projects = list(conn.scalars(sa.select(ProjectRow.key)))
        experiments = [
            (name, number)
            for name, number in conn.execute(sa.select(ExperimentRow.name, ExperimentRow.number))
        ]
        runs = int(conn.scalar(sa.select(sa.func.count()).select_from(RunRow)) or 0)
    return projects, experiments, runs


def test_first_runs_of_a_new_experiment_at_once(server: str, app: FastAPI) -> None:
    def first_run() -> str:
        # What mlflow.set_experiment + start_run send, on a client of this thread's own.
        client = MlflowClient(server)
        experiment = client.get_experiment_by_name("churn")
        if experiment is None:
            try:
                experiment_id = client.create_experiment("churn")
            except MlflowException as exc:  # the client's own answer to a lost race
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment_id = client.get_experiment_by_name("churn").experiment_id
        else:
            experiment_id = experiment.experiment_id
        run = client.create_run(experiment_id)
        client.set_terminated(run.info.run_id)
        return experiment_id

    ids = at_once(first_run)
    assert len(set(ids)) == 1
    projects, experiments, runs = stored(app)
    assert projects == ["MLFLOW"]
    # MLflow's store has its Default experiment from the start: the first lookup makes it
    assert [name for name, _ in experiments] == ["Default", "churn"]
    assert runs == CLIENTS


def test_first_runs_in_the_default_experiment_at_once(server: str, app: FastAPI) -> None:
    def first_run() -> str:
        client = MlflowClient(server)
        run = client.create_run("0")  # mlflow.start_run() with no experiment set
        client.set_terminated(run.info.run_id)
        return run.info.experiment_id

    assert at_once(first_run) == ["0"] * CLIENTS
    projects, experiments, runs = stored(app)
    assert projects == ["MLFLOW"]
    assert experiments == [("Default", 0)]
    assert runs == CLIENTS


def test_new_experiments_with_different_names_at_once(server: str, app: FastAPI) -> None:
    names = iter(f"exp-{i}" for i in range(CLIENTS))
    lock = threading.Lock()

    def create() -> str:
        with lock:
            name = next(names)
        client = MlflowClient(server)
        experiment_id = client.create_experiment(name)
        client.create_run(experiment_id)
        return experiment_id

    ids = at_once(create)
    assert len(set(ids)) == CLIENTS  # each got its own number
    projects, experiments, runs = stored(app)
    assert projects == ["MLFLOW"]
    assert sorted(name for name, _ in experiments) == sorted(f"exp-{i}" for i in range(CLIENTS))
    assert runs == CLIENTS
