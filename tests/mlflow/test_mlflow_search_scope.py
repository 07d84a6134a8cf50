"""runs/search as the MLflow client uses it in auth mode: experiments of several projects
in one call, every run_view_type, and only what the caller may see."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException

import mlflow
from loopwise import Client
from loopwise.accounts import service as accounts
from mlflow import MlflowClient

pytestmark = [pytest.mark.sqlite_only, pytest.mark.filterwarnings("ignore")]


@pytest.fixture
def app(auth_app: FastAPI) -> FastAPI:
    """The live server and the client fixtures of this folder, in auth mode."""
    return auth_app


@pytest.fixture
def as_user(
    auth_app: FastAPI, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], str]:
    """Switch the MLflow client to a user's token (users made on first use); the token."""
    state = auth_app.state.loopwise
    tokens: dict[str, str] = {}

    def switch(name: str) -> str:
        if name not in tokens:
            with state.db.session(write=True) as session:
                user = accounts.create_user(session, state.clock, name)
                tokens[name] = accounts.create_token(session, state.clock, user.id, "t")[1]
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", tokens[name])
        return tokens[name]

    return switch


def _runs(experiment: str, names: list[str]) -> str:
    exp_id = mlflow.set_experiment(experiment).experiment_id
    for name in names:
        with mlflow.start_run(run_name=name):
            mlflow.log_metric("auc", 0.5)
    return exp_id


def test_search_spans_projects_the_caller_sees(
    tracking_uri: str, as_user: Callable[[str], str]
) -> None:
    with Client(tracking_uri, token=as_user("bob")) as bob:
        bob.create_project("SECRET", "Secret")
    secret = _runs("SECRET/x", ["x1"])
    with Client(tracking_uri, token=as_user("alice")) as alice:
        alice.create_project("CHURN", "Churn")
        alice.create_project("SHARED", "Shared")
    churn = _runs("CHURN/gb", ["c1", "c2"])
    shared = _runs("SHARED/lr", ["s1"])

    client = MlflowClient()
    both = client.search_runs([churn, shared])
    assert sorted(r.info.run_name for r in both) == ["c1", "c2", "s1"]
    client.delete_run(next(r for r in both if r.info.run_name == "c1").info.run_id)

    def names(view: int) -> list[str]:
        found = client.search_runs([churn, shared], run_view_type=view)
        return sorted(r.info.run_name for r in found)

    assert names(ViewType.ACTIVE_ONLY) == ["c2", "s1"]
    assert names(ViewType.DELETED_ONLY) == ["c1"]
    assert names(ViewType.ALL) == ["c1", "c2", "s1"]
    everything = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert sorted(r.info.run_name for r in everything) == ["c2", "s1"]  # never SECRET's
    with pytest.raises(MlflowException) as refused:
        client.search_runs([churn, secret])  # as if it did not exist: no names leak
    assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"
