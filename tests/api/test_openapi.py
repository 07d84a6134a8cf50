"""The OpenAPI document at /openapi.json: valid, and it describes the MLflow door too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from loopwise.app import create_app
from loopwise.core.settings import Settings
from loopwise.mlflow_compat import api as mlflow_api
from loopwise.mlflow_compat import errors as mlflow_errors
from loopwise.mlflow_compat import models_api as mlflow_models_api

ARTIFACTS = "/api/2.0/mlflow-artifacts/"
RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    home = tmp_path_factory.mktemp("openapi")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'db'}")
    application = create_app(settings, sweep=False)
    yield application
    application.state.loopwise.db.dispose()


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    with TestClient(app, base_url="http://127.0.0.1") as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def mlflow_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the MLflow door, from its routers."""
    routes = [*mlflow_api.router.routes, *mlflow_models_api.router.routes]
    found = sorted(
        (method, route.path.replace(":path}", "}"))  # as the document writes it
        for route in routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )
    assert all(mlflow_errors.is_mlflow(p) or p.startswith(ARTIFACTS) for _, p in found)
    return found


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)  # raises with the offending part
    operation_ids = [
        op["operationId"] for path in document["paths"].values() for op in path.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))


def test_every_mlflow_route_is_described(document: dict[str, Any]) -> None:
    routes = mlflow_routes()
    assert len(routes) >= 40  # the door's ~30 paths, some with several methods
    problems = []
    for method, path in routes:
        op = document["paths"].get(path, {}).get(method.lower())
        if op is None:
            problems.append(f"{method} {path}: missing")
            continue
        if op.get("tags") != ["mlflow"]:
            problems.append(f"{method} {path}: tags {op.get('tags')}")
        reply = op["responses"]["200"]["content"]
        if reply.get("application/json", {}).get("schema") == {} or not reply:
            problems.append(f"{method} {path}: undescribed reply {reply}")
        errors = {code: op["responses"].get(code) for code in ("400", "404")}
        if not all(errors.values()):
            problems.append(f"{method} {path}: no MLflow error replies")
        if method in ("POST", "PATCH", "PUT") and "requestBody" not in op:
            problems.append(f"{method} {path}: undescribed body")
        wants_query = method in ("GET", "DELETE") and "{" not in path
        if wants_query and not op.get("parameters") and "server-info" not in path:
            problems.append(f"{method} {path}: undescribed query")
    assert not problems, "\n".join(problems)


def schema_of(document: dict[str, Any], method: str, path: str) -> Draft202012Validator:
    op = document["paths"][path][method]
    ref = op["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**ref, "components": document["components"]})


# What the mlflow 3.17.2 client sends (shared protocol reference), and what it must not.
SENT = [
    ("/api/2.0/mlflow/experiments/create", {"name": "churn"}),
    (
        "/api/2.0/mlflow/runs/create",
        {
            "experiment_id": "1",
            "user_id": "ana",
            "start_time": 1767603600000,
            "tags": [{"key": "mlflow.user", "value": "ana"}],
        },
    ),
    ("/api/2.0/mlflow/runs/log-parameter",
     {"run_id": RUN, "run_uuid": RUN, "key": "lr", "value": "0.1"}),
    (
        "/api/2.0/mlflow/runs/log-metric",
        {"run_id": RUN, "run_uuid": RUN, "key": "acc", "value": "NaN", "timestamp": 1, "step": 3},
    ),
    (
        "/api/2.0/mlflow/runs/log-batch",
        {
            "run_id": RUN,
            "metrics": [{"key": "loss", "value": 0.5, "timestamp": 1, "step": 0, "run_id": RUN}],
            "params": [{"key": "depth", "value": "3"}],
            "tags": [],
        },
    ),
    ("/api/2.0/mlflow/runs/update", {"run_id": RUN, "status": "FINISHED", "end_time": 2}),
    (
        "/api/2.0/mlflow/runs/search",
        {
            "experiment_ids": ["1"],
            "filter": "metrics.acc > 0.9",
            "run_view_type": "ACTIVE_ONLY",
            "max_results": 10000,
            "order_by": ["metrics.acc DESC"],
        },
    ),
    ("/api/2.0/mlflow/registered-models/alias",
     {"name": "m", "alias": "champion", "version": "1"}),
]  # fmt: skip
REFUSED = [
    ("/api/2.0/mlflow/runs/log-metric", {"key": "acc", "value": 1}),  # no run id at all
    ("/api/2.0/mlflow/runs/log-metric", {"run_id": RUN, "key": "acc", "value": "abc"}),
    ("/api/2.0/mlflow/runs/create", {"experiment_id": 1}),  # ids are strings
    ("/api/2.0/mlflow/runs/create", {"tags": [1]}),
    ("/api/2.0/mlflow/runs/search", {"max_results": 0}),
]


@pytest.mark.parametrize(("path", "body"), SENT, ids=[p for p, _ in SENT])
def test_what_mlflow_clients_send_fits_the_schemas(
    document: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    errors = [e.message for e in schema_of(document, "post", path).iter_errors(body)]
    assert not errors


@pytest.mark.parametrize(("path", "body"), REFUSED)
def test_what_the_door_refuses_does_not_fit(
    document: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    assert not schema_of(document, "post", path).is_valid(body)


def test_query_parameters_of_get_endpoints(document: dict[str, Any]) -> None:
    def names(path: str) -> dict[str, bool]:
        params = document["paths"][path]["get"]["parameters"]
        return {p["name"]: p["required"] for p in params if p["in"] == "query"}

    assert names("/api/2.0/mlflow/experiments/get-by-name") == {"experiment_name": True}
    assert names("/api/2.0/mlflow/runs/get") == {"run_id": False, "run_uuid": False}
    assert names("/api/2.0/mlflow/metrics/get-history") == {
        "run_id": False,
        "run_uuid": False,
        "metric_key": True,
        "max_results": False,
        "page_token": False,
    }


def test_the_document_is_served_without_loading_a_database(tmp_path: Path) -> None:
    """Components are added once, when the document is first built (not per request)."""
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'db'}")
    application = create_app(settings, sweep=False)
    try:
        first = application.openapi()
        assert application.openapi() is first
        assert "MlflowRun" in first["components"]["schemas"]
    finally:
        application.state.loopwise.db.dispose()
