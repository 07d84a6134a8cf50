"""The model registry as unmodified MLflow clients use it (mlflow 3.17.2, live server):
search with MLflow's filter grammar, stages and promotion checks, tags, edits and
loading by stage. What the door adds is translation: the stores behind it are tested in
tests/registry, so these run on SQLite only."""

from __future__ import annotations

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from starlette.testclient import TestClient

import mlflow  # the test extra installs it: missing is a failure, not a skip
from mlflow import MlflowClient

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.sqlite_only]


def _names(models: list) -> list[str]:  # type: ignore[type-arg]
    return [m.name for m in models]


def test_search_registered_models_filters_orders_pages_and_leaves_prompts_out(
    tracking_uri: str, api: TestClient
) -> None:
    client = MlflowClient()
    for name in ("alpha-1", "alpha-2", "Alpha-3", "beta"):
        client.create_registered_model(name, tags={"team": "risk" if "1" in name else "ops"})
    # a prompt, as MLflow's prompt registry stores one (the model client refuses to)
    prompt = {"name": "my-prompt", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}
    assert api.post("/api/2.0/mlflow/registered-models/create", json=prompt).status_code == 200

    # the MLflow 3 client always adds "tag.`mlflow.prompt.is_prompt` != 'true'"
    assert _names(client.search_registered_models()) == ["Alpha-3", "alpha-1", "alpha-2", "beta"]
    assert _names(client.search_registered_models("name LIKE 'alpha-%'")) == [
        "alpha-1",
        "alpha-2",
    ]
    assert _names(client.search_registered_models("name ILIKE 'ALPHA-%'")) == [
        "Alpha-3",
        "alpha-1",
        "alpha-2",
    ]
    assert _names(client.search_registered_models("name = 'beta'")) == ["beta"]
    assert _names(client.search_registered_models("tags.team = 'risk'")) == ["alpha-1"]
    assert _names(client.search_registered_models("tags.team = 'ops' AND name != 'beta'")) == [
        "Alpha-3",
        "alpha-2",
    ]
    assert _names(client.search_registered_models(order_by=["name DESC"])) == [
        "beta",
        "alpha-2",
        "alpha-1",
        "Alpha-3",
    ]
    first = client.search_registered_models(max_results=3, order_by=["name ASC"])
    assert _names(first) == ["Alpha-3", "alpha-1", "alpha-2"] and first.token
    rest = client.search_registered_models(max_results=3, page_token=first.token)
    assert _names(rest) == ["beta"] and not rest.token
    assert client.get_registered_model("alpha-1").tags == {"team": "risk"}
    with pytest.raises(MlflowException) as bad:
        client.search_registered_models("name ~ 'x'")
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_model_versions_and_version_tags(tracking_uri: str) -> None:
    mlflow.set_experiment("versions")
    client = MlflowClient()
    client.create_registered_model("clf")
    runs = []
    for i in range(3):
        with mlflow.start_run() as run:
            runs.append(run.info.run_id)
        client.create_model_version("clf", source=f"s3://bucket/clf/{i}", run_id=run.info.run_id)
    client.set_model_version_tag("clf", "2", "validated", "yes")
    client.set_model_version_tag("clf", "3", "validated", "no")
    client.set_model_version_tag("clf", "3", "scratch", "x")
    client.delete_model_version_tag("clf", "3", "scratch")
    assert client.get_model_version("clf", "3").tags == {"validated": "no"}

    def versions(*args, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
        return [v.version for v in client.search_model_versions(*args, **kwargs)]

    assert versions("name = 'clf'") == ["3", "2", "1"]
    assert versions(f"run_id = '{runs[1]}'") == ["2"]
    assert versions(f"run_id IN ('{runs[0]}', '{runs[2]}')") == ["3", "1"]
    assert versions("source_path = 's3://bucket/clf/0'") == ["1"]
    assert versions("tags.validated = 'yes'") == ["2"]
    assert versions("name = 'clf'", order_by=["version_number ASC"]) == ["1", "2", "3"]
    page = client.search_model_versions("name = 'clf'", max_results=2)
    assert [v.version for v in page] == ["3", "2"] and page.token
    last = client.search_model_versions("name = 'clf'", max_results=2, page_token=page.token)
    assert [v.version for v in last] == ["1"] and not last.token
    client.delete_model_version_tag("clf", "3", "scratch")  # gone already: as MLflow, no error
    with pytest.raises(MlflowException) as missing:
        client.delete_model_version_tag("clf", "9", "scratch")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_stages_go_through_promotion_checks_and_load_by_stage(tracking_uri: str) -> None:
    mlflow.set_experiment("stages")

    class Add(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input["x"] + 1

    client = MlflowClient()
    client.create_registered_model("adder2")
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=Add())
    client.create_model_version("adder2", source=info.model_uri, run_id=run.info.run_id)
    unfinished = client.create_run(run.info.experiment_id)  # never ends
    client.create_model_version("adder2", source=info.model_uri, run_id=unfinished.info.run_id)

    staged = client.transition_model_version_stage("adder2", "1", "Staging")
    assert staged.current_stage == "Staging"
    assert [v.version for v in client.get_latest_versions("adder2", ["Staging"])] == ["1"]
    promoted = client.transition_model_version_stage("adder2", "1", "Production")
    assert promoted.current_stage == "Production"
    with pytest.raises(MlflowException) as refused:  # Loopwise's check: the run must finish
        client.transition_model_version_stage("adder2", "2", "Production")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "source run finished" in refused.value.message
    # refused as a whole: the hop through staging is rolled back with it
    assert client.get_model_version("adder2", "2").current_stage == "None"

    latest = client.get_latest_versions("adder2")
    assert {(v.current_stage, v.version) for v in latest} == {("Production", "1"), ("None", "2")}
    assert client.get_latest_versions("adder2", ["Archived"]) == []
    with pytest.raises(MlflowException, match="Invalid Model Version stage"):
        client.get_latest_versions("adder2", ["Live"])
    frame = pd.DataFrame({"x": [1, 2]})
    assert mlflow.pyfunc.load_model("models:/adder2/Production").predict(frame).tolist() == [2, 3]
    assert mlflow.pyfunc.load_model("models:/adder2/latest").predict(frame).tolist() == [2, 3]


def test_update_rename_and_delete_models_and_versions(tracking_uri: str) -> None:
    client = MlflowClient()
    client.create_registered_model("old-name", description="first")
    for i in range(3):
        client.create_model_version("old-name", source=f"s3://bucket/m/{i}")
    client.set_registered_model_tag("old-name", "owner", "ana")
    client.delete_registered_model_tag("old-name", "owner")
    assert client.get_registered_model("old-name").tags == {}

    updated = client.update_registered_model("old-name", description="second")
    assert updated.description == "second"
    assert client.update_model_version("old-name", "1", description="v1").description == "v1"
    client.rename_registered_model("old-name", "new-name")
    assert client.get_registered_model("new-name").description == "second"
    assert client.get_model_version("new-name", "1").description == "v1"
    with pytest.raises(MlflowException) as gone:
        client.get_registered_model("old-name")
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.create_registered_model("taken")
    with pytest.raises(MlflowException) as taken:
        client.rename_registered_model("new-name", "taken")
    assert taken.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.delete_model_version("new-name", "2")
    assert [v.version for v in client.search_model_versions("name = 'new-name'")] == ["3", "1"]
    with pytest.raises(MlflowException) as missing:
        client.get_model_version("new-name", "2")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    client.delete_registered_model("new-name")
    assert _names(client.search_registered_models()) == ["taken"]
    with pytest.raises(MlflowException) as again:
        client.delete_registered_model("new-name")
    assert again.value.error_code == "RESOURCE_DOES_NOT_EXIST"
