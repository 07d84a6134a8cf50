"""What MLflow's own REST tracking tests expect of a server, checked on ours: error
wording (built here with MLflow's own message functions), the Default experiment of a
fresh store, tag deletion, experiment creation checks, log-batch's required timestamp,
dataset and model inputs and outputs on the run, and MLflow 3 logged models.

These prove the door's translation, not the store: SQLite only (``sqlite_only``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.entities.logged_model_input import LoggedModelInput
from mlflow.entities.logged_model_output import LoggedModelOutput
from mlflow.exceptions import MlflowException
from mlflow.utils.validation import invalid_value, missing_value
from starlette.testclient import TestClient

from mlflow import MlflowClient

pytestmark = pytest.mark.sqlite_only

API = "/api/2.0/mlflow"


def _experiment(api: TestClient, name: str = "acceptance") -> str:
    response = api.post(f"{API}/experiments/create", json={"name": name})
    assert response.status_code == 200, response.text
    experiment_id: str = response.json()["experiment_id"]
    return experiment_id


def _run(api: TestClient, experiment_id: str) -> str:
    response = api.post(f"{API}/runs/create", json={"experiment_id": experiment_id})
    run_id: str = response.json()["run"]["info"]["run_id"]
    return run_id


def _refused(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["message"]
    for leak in ("Input should", "String should", "pydantic"):
        assert leak not in message, message
    assert not re.search(r"\brun_[0-9a-f]{8}|'run_(?!id')", message), message  # internal ids
    return message


TYPE_CASES = [  # (path, body, the parameter, its value), wrong types MLflow's server names
    ("experiments/create", {"name": 123}, "name", 123),
    ("experiments/create", {"name": "e", "artifact_location": 9.0}, "artifact_location", 9.0),
    ("experiments/create", {"name": "e", "artifact_location": "x", "tags": "5"}, "tags", "5"),
    ("runs/log-metric", {"run_id": 31, "key": "m", "value": 1, "timestamp": 1}, "run_id", 31),
    ("runs/log-parameter", {"run_id": "{run}", "key": 31, "value": "1"}, "key", 31),
    ("runs/set-tag", {"run_id": "{run}", "key": "k", "value": 123}, "value", 123),
    (
        "runs/log-metric",
        {"run_id": "{run}", "key": "m", "value": 1, "timestamp": "foo"},
        "timestamp",
        "foo",
    ),
]


@pytest.mark.parametrize(("path", "body", "name", "value"), TYPE_CASES)
def test_wrong_types_are_refused_in_mlflows_words(
    api: TestClient, path: str, body: dict[str, Any], name: str, value: Any
) -> None:
    run = _run(api, _experiment(api))
    sent = {k: run if v == "{run}" else v for k, v in body.items()}
    message = _refused(api.post(f"{API}/{path}", json=sent), 400)
    # MLflow's own wording, up to its final "supplied" (the server adds a hint after it)
    assert invalid_value(name, value).removesuffix(".") in message
    assert message.endswith(".")


def test_missing_fields_and_bounds_are_refused_in_mlflows_words(api: TestClient) -> None:
    run = _run(api, _experiment(api))
    message = _refused(api.post(f"{API}/experiments/create", json={}), 400)
    assert message.startswith(missing_value("name"))
    metric = {"key": "m", "value": 1.0, "step": 0}  # no timestamp: MLflow refuses it
    message = _refused(
        api.post(f"{API}/runs/log-batch", json={"run_id": run, "metrics": [metric]}), 400
    )
    assert message.startswith(missing_value("metrics[0].timestamp"))
    message = _refused(
        api.post(f"{API}/runs/search", json={"experiment_ids": ["0"], "max_results": 50001}), 400
    )
    assert (
        message
        == "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000"
    )
    message = _refused(
        api.post(f"{API}/runs/log-parameter", json={"run_id": run, "key": "a%b"}), 400
    )
    assert message.startswith(invalid_value("key", "a%b")) and "Names may only contain" in message


def test_an_unknown_run_is_named_by_the_id_the_client_sent(api: TestClient) -> None:
    response = api.get(f"{API}/runs/get", params={"run_id": "fake_run_id"})
    assert _refused(response, 404) == "Run with id=fake_run_id not found"
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_a_fresh_store_lists_the_default_experiment(api: TestClient) -> None:
    found = api.post(f"{API}/experiments/search", json={"max_results": 10}).json()
    assert [(e["experiment_id"], e["name"]) for e in found["experiments"]] == [("0", "Default")]


def test_tags_are_deleted_as_mlflow_does(api: TestClient) -> None:
    experiment = _experiment(api)
    body = {"experiment_id": experiment, "key": "team", "value": "churn"}
    assert api.post(f"{API}/experiments/set-experiment-tag", json=body).status_code == 200
    gone = {"experiment_id": experiment, "key": "team"}
    assert api.post(f"{API}/experiments/delete-experiment-tag", json=gone).status_code == 200
    tags = api.get(f"{API}/experiments/get", params={"experiment_id": experiment}).json()
    assert tags["experiment"]["tags"] == []
    message = _refused(api.post(f"{API}/experiments/delete-experiment-tag", json=gone), 404)
    assert message == f"No tag with name: team in experiment with id {experiment}"

    run = _run(api, experiment)
    missing = {"run_id": run, "key": "nope"}
    message = _refused(api.post(f"{API}/runs/delete-tag", json=missing), 404)
    assert message == f"No tag with name: nope in run with id {run}"
    api.post(f"{API}/runs/set-tag", json={"run_id": run, "key": "k", "value": "v"})
    api.post(f"{API}/runs/delete", json={"run_id": run})
    message = _refused(api.post(f"{API}/runs/delete-tag", json={"run_id": run, "key": "k"}), 400)
    assert message == f"The run {run} must be in the 'active' state. Current state is deleted."


def test_run_inputs_outputs_and_logged_models_with_the_client(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    experiment = client.create_experiment("models", artifact_location="my_location")
    # a relative location is kept, made absolute as MLflow's server does
    assert client.get_experiment(experiment).artifact_location == str(Path.cwd() / "my_location")
    run = client.create_run(experiment).info.run_id

    dataset = Dataset(name="train", digest="d1", source_type="local", source="s3://b/t.csv")
    client.log_inputs(run, [DatasetInput(dataset, [InputTag("tag1", "value1")])])
    (found,) = client.get_run(run).inputs.dataset_inputs
    assert (found.dataset.name, found.dataset.digest, found.dataset.source_type) == (
        "train",
        "d1",
        "local",
    )
    assert found.dataset.source == "s3://b/t.csv"
    assert [(t.key, t.value) for t in found.tags] == [("tag1", "value1")]

    unnamed = client.create_logged_model(experiment)  # MLflow makes a name up
    assert unnamed.name
    elsewhere = client.create_logged_model(experiment, "m", source_run_id="not-a-run-here")
    assert elsewhere.source_run_id == "not-a-run-here"
    model = client.create_logged_model(experiment, "m", source_run_id=run, tags={"a": "1"})
    client.log_model_params(model.model_id, {"alpha": "0.5"})
    client.delete_logged_model_tag(model.model_id, "a")
    client.log_metric(run, "acc", 0.75, timestamp=5, step=2, model_id=model.model_id)
    client.log_outputs(run, [LoggedModelOutput(model.model_id, step=2)])
    client.log_inputs(run, models=[LoggedModelInput(unnamed.model_id)])

    got = client.get_logged_model(model.model_id)
    assert got.params == {"alpha": "0.5"} and "a" not in got.tags
    assert [(m.key, m.value, m.step, m.run_id) for m in got.metrics] == [("acc", 0.75, 2, run)]
    again = client.get_run(run)
    assert [(o.model_id, o.step) for o in again.outputs.model_outputs] == [(model.model_id, 2)]
    assert [i.model_id for i in again.inputs.model_inputs] == [unnamed.model_id]
    assert again.data.metrics["acc"] == 0.75  # logged on the run as well

    page = client.search_logged_models([experiment], max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_logged_models([experiment], max_results=2, page_token=page.token)
    assert {m.model_id for m in [*page, *rest]} == {
        unnamed.model_id,
        elsewhere.model_id,
        model.model_id,
    }

    client.create_registered_model("acceptance-model")
    version = client.create_model_version(
        "acceptance-model", f"models:/{model.model_id}", run_id=run, model_id=model.model_id
    )
    tag = client.get_logged_model(model.model_id).tags["mlflow.modelVersions"]
    assert json.loads(tag) == [{"name": "acceptance-model", "version": version.version}]

    client.delete_logged_model(unnamed.model_id)
    with pytest.raises(MlflowException, match="not found") as caught:
        client.get_logged_model(unnamed.model_id)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
