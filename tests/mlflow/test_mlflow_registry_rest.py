"""The MLflow registry routes' refusals over raw HTTP: MLflow's error body, 4xx only (the
client retries 5xx), and DELETE fields read from the body or the query string."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry
from loopwise.registry.models import Stage
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.sqlite_only

API = "/api/2.0/mlflow"


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code
    return str(body["message"])


def _model_with_versions(api: TestClient, name: str, count: int) -> None:
    assert api.post(f"{API}/registered-models/create", json={"name": name}).status_code == 200
    for i in range(count):
        made = api.post(f"{API}/model-versions/create", json={"name": name, "source": f"s3://{i}"})
        assert made.status_code == 200


def test_registry_refusals_use_mlflow_error_shape(api: TestClient) -> None:
    _model_with_versions(api, "m", 2)
    missing_model = api.request(
        "DELETE", f"{API}/registered-models/delete-tag", json={"name": "nope", "key": "k"}
    )
    assert "not found" in _error(missing_model, 404, "RESOURCE_DOES_NOT_EXIST")
    bad_stage = api.post(
        f"{API}/model-versions/transition-stage",
        json={"name": "m", "version": "1", "stage": "Live"},
    )
    assert "Invalid Model Version stage" in _error(bad_stage, 400, "INVALID_PARAMETER_VALUE")
    bad_filter = api.get(f"{API}/registered-models/search", params={"filter": "name ~ 'm'"})
    _error(bad_filter, 400, "INVALID_PARAMETER_VALUE")
    too_many = api.get(f"{API}/model-versions/search", params={"max_results": 300_000})
    assert "max_results" in _error(too_many, 400, "INVALID_PARAMETER_VALUE")
    bad_order = api.post(f"{API}/registered-models/search", json={"order_by": ["stage ASC"]})
    assert "order_by" in _error(bad_order, 400, "INVALID_PARAMETER_VALUE")
    no_version = api.post(f"{API}/model-versions/set-tag", json={"name": "m", "key": "k"})
    assert "'version'" in _error(no_version, 400, "INVALID_PARAMETER_VALUE")
    # no source run: the promotion check refuses production (a 4xx, never retried)
    refused = api.post(
        f"{API}/model-versions/transition-stage",
        json={"name": "m", "version": "1", "stage": "Production"},
    )
    assert "source run finished" in _error(refused, 400, "INVALID_PARAMETER_VALUE")


def test_delete_reads_the_query_string_too(api: TestClient) -> None:
    _model_with_versions(api, "q", 2)
    assert api.delete(f"{API}/model-versions/delete?name=q&version=2").status_code == 200
    gone = api.get(f"{API}/model-versions/get", params={"name": "q", "version": "2"})
    _error(gone, 404, "RESOURCE_DOES_NOT_EXIST")
    assert api.delete(f"{API}/registered-models/delete?name=q").status_code == 200
    _error(api.get(f"{API}/registered-models/get?name=q"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_archive_existing_versions_archives_the_other_staging_versions(api: TestClient) -> None:
    _model_with_versions(api, "s", 2)

    def stage(version: str, archive: bool = False) -> dict[str, Any]:
        body = {"name": "s", "version": version, "stage": "staging"}
        response = api.post(
            f"{API}/model-versions/transition-stage",
            json=body | {"archive_existing_versions": archive},
        )
        assert response.status_code == 200, response.text
        return dict(response.json()["model_version"])

    assert stage("1")["current_stage"] == "Staging"
    assert stage("2", archive=True)["current_stage"] == "Staging"
    first = api.get(f"{API}/model-versions/get", params={"name": "s", "version": "1"}).json()
    assert first["model_version"]["current_stage"] == "Archived"
    latest = api.post(
        f"{API}/registered-models/get-latest-versions", json={"name": "s", "stages": ["Staging"]}
    ).json()
    assert [v["version"] for v in latest["model_versions"]] == ["2"]


def test_a_canary_shows_as_staging(api: TestClient, do: UseCases) -> None:
    do(projects.create_project, ProjectCreate(key="CAN", name="Canary"))
    run = do(tracking.create_run, "CAN", RunCreate(name="r"))
    do(tracking.finish_run, run.id, RunFinish())
    do(registry.create_model, "CAN", "c")
    for _ in range(2):
        do(registry.create_version, "c", run_id=run.id, source="s3://c")
    do(registry.transition, "c", 1, Stage.STAGING)
    do(registry.transition, "c", 1, Stage.PRODUCTION)
    do(registry.transition, "c", 2, Stage.CANARY, traffic_share=0.1)

    latest = api.post(f"{API}/registered-models/get-latest-versions", json={"name": "c"}).json()
    stages = {v["current_stage"]: v["version"] for v in latest["model_versions"]}
    assert stages == {"Production": "1", "Staging": "2"}
