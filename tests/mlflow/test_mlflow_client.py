"""Unmodified MLflow client code logs to Loopwise (mlflow 3.17.2, live server).

SQLite only: what the client proves is the door's translation; the stores behind it are
tested on both in tests/tracking and tests/registry, the door's store-facing writes in
test_mlflow_rest.py and test_mlflow_concurrency.py."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pandas as pd
import pytest
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

import mlflow  # the test extra installs it: missing is a failure, not a skip
from loopwise import Client
from loopwise.core.clock import FrozenClock
from mlflow import MlflowClient

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.sqlite_only]


def test_tracking_workflow(tracking_uri: str) -> None:
    exp = mlflow.set_experiment("churn")
    assert (
        exp.experiment_id.isdigit()
        and exp.artifact_location == f"mlflow-artifacts:/{exp.experiment_id}"
    )
    with mlflow.start_run(run_name="gb") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 3, "model": "gb"})
        for step in range(5):
            mlflow.log_metric("loss", 1 / (step + 1), step=step, timestamp=1_700_000_000_000 + step)
        mlflow.log_metrics({"acc": 0.91, "nan_metric": float("nan")})
        mlflow.set_tags({"team": "risk", "stage": "dev"})
        mlflow.log_dict({"a": 1}, "config.json")
        mlflow.log_text("hello", "notes/readme.txt")
    client = MlflowClient()
    got = client.get_run(run.info.run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "gb"
    assert got.data.params == {"lr": "0.1", "depth": "3", "model": "gb"}
    assert got.data.metrics["loss"] == pytest.approx(0.2) and got.data.metrics["acc"] == 0.91
    assert math.isnan(got.data.metrics["nan_metric"])
    assert got.data.tags["team"] == "risk"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [
        (i, 1_700_000_000_000 + i) for i in range(5)
    ]
    assert client.get_metric_history(run.info.run_id, "unknown") == []
    assert mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/config.json") == {"a": 1}
    folder = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/notes")
    assert Path(folder, "readme.txt").read_text() == "hello"
    assert sorted(a.path for a in client.list_artifacts(run.info.run_id)) == [
        "config.json",
        "notes",
    ]


def test_failing_run_and_batch(tracking_uri: str) -> None:
    mlflow.set_experiment("batch")
    with pytest.raises(ValueError), mlflow.start_run() as failing:
        raise ValueError("boom")
    client = MlflowClient()
    assert client.get_run(failing.info.run_id).info.status == "FAILED"
    run = client.create_run(mlflow.get_experiment_by_name("batch").experiment_id)
    metrics = [Metric("m", float(i), 1_700_000_000_000 + i, i) for i in range(2500)]
    client.log_batch(
        run.info.run_id, metrics=metrics, params=[Param("p", "1")], tags=[RunTag("t", "x")]
    )
    client.set_terminated(run.info.run_id)
    history = client.get_metric_history(run.info.run_id, "m")
    assert len(history) == 2500 and history[-1].value == 2499.0
    with pytest.raises(MlflowException, match="immutable|already"):
        client.log_param(run.info.run_id, "p", "2")  # params are immutable: 400, not retried


def test_search_runs_filters_orders_and_pages(tracking_uri: str) -> None:
    exp_id = mlflow.set_experiment("search").experiment_id
    for i in range(7):
        with mlflow.start_run(run_name=f"r{i}"):
            mlflow.log_metric("acc", i / 10)
            mlflow.log_param("family", "tree" if i % 2 else "linear")
            mlflow.set_tag("round", str(i))
    frame = mlflow.search_runs(
        experiment_ids=[exp_id],
        filter_string="metrics.acc >= 0.3 and params.family = 'tree'",
        order_by=["metrics.acc DESC"],
    )
    assert frame["metrics.acc"].tolist() == [0.5, 0.3]
    client = MlflowClient()
    page = client.search_runs([exp_id], order_by=["attributes.run_name ASC"], max_results=3)
    names = [r.info.run_name for r in page]
    while page.token:
        page = client.search_runs(
            [exp_id], order_by=["attributes.run_name ASC"], max_results=3, page_token=page.token
        )
        names += [r.info.run_name for r in page]
    assert names == [f"r{i}" for i in range(7)]
    liked = client.search_runs(
        [exp_id], filter_string="tags.round LIKE '1%' and attributes.status = 'FINISHED'"
    )
    assert [r.info.run_name for r in liked] == ["r1"]
    with pytest.raises(MlflowException):
        client.search_runs([exp_id], filter_string="metrics.acc >> 1")


def test_experiments_and_runs_lifecycle(tracking_uri: str) -> None:
    client = MlflowClient()
    exp_id = client.create_experiment("to-delete")
    with pytest.raises(MlflowException, match="already exists"):
        client.create_experiment("to-delete")
    run = client.create_run(exp_id)
    client.delete_run(run.info.run_id)
    assert client.search_runs([exp_id]) == []
    client.restore_run(run.info.run_id)
    assert len(client.search_runs([exp_id])) == 1
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert "to-delete" not in [e.name for e in client.search_experiments()]
    client.restore_experiment(exp_id)
    assert client.get_experiment_by_name("to-delete").experiment_id == exp_id
    assert client.get_experiment_by_name("never-made") is None


def test_registry_workflow_and_pyfunc(tracking_uri: str) -> None:
    mlflow.set_experiment("registry")

    class Add(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input["x"] + 1

    client = MlflowClient()
    client.create_registered_model("adder")
    with pytest.raises(MlflowException, match="RESOURCE_ALREADY_EXISTS|already exists"):
        client.create_registered_model("adder")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.97)
        info = mlflow.pyfunc.log_model(name="model", python_model=Add())
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "adder")
    assert version.version == "1" and version.run_id == run.info.run_id
    second = client.create_model_version("adder", source=info.model_uri, run_id=run.info.run_id)
    assert second.version == "2" and second.status == "READY"
    client.set_registered_model_alias("adder", "champion", "1")
    assert client.get_model_version_by_alias("adder", "champion").version == "1"
    model = mlflow.pyfunc.load_model("models:/adder@champion")
    assert model.predict(pd.DataFrame({"x": [1, 2]})).tolist() == [2, 3]
    assert mlflow.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"x": [9]})).tolist() == [
        10
    ]


def test_runs_join_the_plan_through_a_tag(tracking_uri: str, clock: FrozenClock) -> None:
    clock.current = datetime.now(UTC)  # the MLflow client stamps runs with the real time
    sdk = Client(tracking_uri)
    sdk.create_project("CHURN", "Churn")
    h = sdk.create_hypothesis("CHURN", "GB wins", statement="s", metric="recall", threshold=0.8)
    exp = mlflow.set_experiment("CHURN/gradient boosting")
    assert exp.name == "CHURN/gradient boosting"
    with mlflow.start_run(tags={"loopwise.hypothesis": h.item.key}) as run:
        mlflow.log_metric("recall", 0.85)
    clock.advance(timedelta(seconds=5))
    hypothesis = sdk.get_hypothesis(h.item.key)
    assert hypothesis.verdict.value == "supported"
    assert hypothesis.verdict_run_id == f"run_{run.info.run_id}"
    assert sdk.get_run(f"run_{run.info.run_id}").experiment_name == "gradient boosting"
    sdk.close()


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code"),
    [
        (
            "GET",
            "experiments/get-by-name?experiment_name=nope",
            None,
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        ("GET", "experiments/get?experiment_id=999", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", "experiments/get?experiment_id=abc", None, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "runs/get?run_id=" + "f" * 32, None, 404, "RESOURCE_DOES_NOT_EXIST"),
        (
            "POST",
            "runs/log-metric",
            {"run_id": "f" * 32, "key": "a", "value": 1, "timestamp": 1},
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        ("POST", "runs/log-parameter", {"run_id": "x"}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "POST",
            "runs/search",
            {"experiment_ids": ["0"], "filter": "metrics.a >"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ("POST", "experiments/create", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("GET", "no/such/endpoint", None, 404, "ENDPOINT_NOT_FOUND"),
    ],
)
def test_errors_use_mlflow_codes(
    tracking_uri: str, method: str, path: str, payload: dict | None, status: int, code: str
) -> None:
    response = httpx.request(method, f"{tracking_uri}/api/2.0/mlflow/{path}", json=payload)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code and body["message"]


def test_malformed_json_and_artifact_traversal_are_400(tracking_uri: str) -> None:
    r = httpx.post(
        f"{tracking_uri}/api/2.0/mlflow/runs/create",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    exp_id = mlflow.set_experiment("art").experiment_id
    run = MlflowClient().create_run(exp_id)
    base = f"{tracking_uri}/api/2.0/mlflow-artifacts/artifacts/{exp_id}/{run.info.run_id}/artifacts"
    assert httpx.put(f"{base}/ok.txt", content=b"x").status_code == 200
    bad = httpx.put(f"{base}/..%2F..%2Fescape.txt", content=b"x")
    assert bad.status_code == 400


def test_log_input_records_lineage(tracking_uri: str) -> None:
    frame = pd.DataFrame({"age": [30, 41, 52], "churned": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, name="customers", targets="churned")
    mlflow.set_experiment("lineage")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")  # again: no second version
    sdk = Client(tracking_uri)
    used = sdk._request("GET", f"/api/v1/runs/run_{run.info.run_id}/datasets")
    assert [(u["dataset"], u["role"]) for u in used] == [("customers", "train")]
    version = sdk.get_dataset_version(used[0]["version_id"])
    assert version.content_hash == f"ref:{dataset.digest}" and version.format.value == "reference"
    assert [name for name, _ in version.schema] == ["age", "churned"]
    lineage = sdk.lineage_of_dataset(version.id)
    assert any(n.id == f"run_{run.info.run_id}" for n in lineage.nodes)
    sdk.close()


def test_browser_attacks_are_refused_and_the_client_keeps_working(tracking_uri: str) -> None:
    """What a web page could send to a server on localhost (issue 13): a text/plain body,
    a foreign or null Origin, a rebound Host. Each is refused, nothing changes, and the
    unmodified client then works as before against the same server."""
    api = f"{tracking_uri}/api/2.0/mlflow"
    client = MlflowClient()
    keep = client.create_experiment("keep")
    body = b'{"name": "planted"}'
    plain = httpx.post(
        f"{api}/experiments/create", content=body, headers={"content-type": "text/plain"}
    )
    assert plain.status_code == 415 and plain.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    for origin in ("https://evil.example", "null"):
        refused = httpx.post(
            f"{api}/experiments/delete", json={"experiment_id": keep}, headers={"origin": origin}
        )
        assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    port = tracking_uri.rsplit(":", 1)[1]
    rebound = httpx.post(
        f"{api}/experiments/create",
        json={"name": "planted"},
        headers={"host": f"evil.example:{port}"},
    )
    assert rebound.status_code == 400 and "LOOPWISE_ALLOWED_HOSTS" in rebound.json()["message"]
    assert client.get_experiment_by_name("planted") is None
    assert client.get_experiment(keep).lifecycle_stage == "active"

    mlflow.set_experiment("keep")
    with mlflow.start_run() as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_text("<script>alert(1)</script>", "page.html")
    got = client.get_run(run.info.run_id)
    assert got.data.params == {"lr": "0.1"} and got.data.metrics == {"loss": 0.5}
    folder = mlflow.artifacts.download_artifacts(f"runs:/{run.info.run_id}/page.html")
    assert Path(folder).read_text() == "<script>alert(1)</script>"
    client.delete_experiment(keep)  # a POST without Origin: still allowed
    assert client.get_experiment(keep).lifecycle_stage == "deleted"


def test_renaming_onto_a_taken_name_is_refused(tracking_uri: str) -> None:
    # Found by schemathesis: the unique (project, name) index answered with a 500.
    client = MlflowClient()
    first = client.create_experiment("first")
    client.create_experiment("second")
    with pytest.raises(MlflowException) as caught:
        client.rename_experiment(first, "second")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "already exists" in caught.value.message
    client.rename_experiment(first, "first")  # its own name: nothing to do
    client.rename_experiment(first, "third")
    assert client.get_experiment(first).name == "third"
