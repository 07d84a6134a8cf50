"""Bodies are bounded before they are parsed: a body over LOOPWISE_MAX_BODY_BYTES is a 413
(refused unread when its Content-Length says so, and as soon as a chunked one passes the
limit), streamed uploads answer to LOOPWISE_MAX_ARTIFACT_BYTES instead, and free JSON
nested deeper than MAX_JSON_DEPTH is a 400 on the native and the MLflow doors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.app import create_app
from loopwise.core.clock import FrozenClock
from loopwise.core.limits import MAX_JSON_DEPTH, nests_deeper
from loopwise.core.settings import Settings

MAX_BODY = 4096
MAX_ARTIFACT = 100_000
API = "/api/2.0/mlflow"
JSON = {"content-type": "application/json"}


def nested(depth: int, inner: Any = 1) -> Any:
    value = inner
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def test_nesting_depth_counts_lists_and_objects() -> None:
    assert not nests_deeper(1) and not nests_deeper("[[[[")
    assert not nests_deeper(nested(MAX_JSON_DEPTH))
    assert nests_deeper(nested(MAX_JSON_DEPTH + 1))
    wide = {"a": list(range(100_000)), "b": [nested(MAX_JSON_DEPTH - 2), [1]]}
    assert not nests_deeper(wide)
    wide["b"].append(nested(MAX_JSON_DEPTH - 1))
    assert nests_deeper(wide)
    assert nests_deeper(nested(100_000))  # level by level: no recursion to run out of


@pytest.fixture
def small(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient]:
    """The cap does not depend on the store: SQLite only."""
    shutil.copy(sqlite_template, tmp_path / "db.sqlite")
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        max_body_bytes=MAX_BODY,
        max_artifact_bytes=MAX_ARTIFACT,
        verdict_refresh_seconds=0,
    )
    app: FastAPI = create_app(settings, clock=FrozenClock(), sweep=False)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        yield http
    app.state.loopwise.db.dispose()


def project(description: str) -> bytes:
    return json.dumps({"key": "BIG", "name": "b", "description": description}).encode()


def chunks(total: int) -> Iterator[bytes]:  # no Content-Length: the server counts
    yield b'{"name": "'
    for _ in range(total // 1000):
        yield b"x" * 1000
    yield b'"}'


def test_a_body_over_the_cap_is_413_and_stores_nothing(small: TestClient) -> None:
    exact = project("d" * (MAX_BODY - len(project(""))))
    assert len(exact) == MAX_BODY
    assert small.post("/api/v1/projects", content=exact, headers=JSON).status_code == 201

    over = small.post("/api/v1/projects", content=project("d" * MAX_BODY), headers=JSON)
    assert over.status_code == 413
    assert over.json()["error"]["code"] == "too_large"
    assert "LOOPWISE_MAX_BODY_BYTES" in over.json()["error"]["message"]
    chunked = small.post("/api/v1/projects", content=chunks(2 * MAX_BODY), headers=JSON)
    assert chunked.status_code == 413
    assert chunked.json()["error"]["code"] == "too_large"
    assert [p["key"] for p in small.get("/api/v1/projects").json()] == ["BIG"]


def test_the_mlflow_door_answers_413_in_its_own_shape(small: TestClient) -> None:
    for body in (json.dumps({"name": "x" * MAX_BODY}).encode(), chunks(2 * MAX_BODY)):
        response = small.post(f"{API}/experiments/create", content=body)
        assert response.status_code == 413  # a 4xx: the mlflow client does not retry it
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert f"at most {MAX_BODY:,} bytes" in response.json()["message"]


def test_streamed_uploads_answer_to_the_artifact_limit(small: TestClient) -> None:
    blob = b"x" * (MAX_BODY * 4)
    small.post("/api/v1/projects", json={"key": "UP", "name": "u"})
    run = small.post("/api/v1/projects/UP/runs", json={}).json()["id"]
    assert small.put(f"/api/v1/runs/{run}/artifacts/a.bin", content=blob).status_code == 201
    exp = small.post(f"{API}/experiments/create", json={"name": "e"}).json()["experiment_id"]
    rid = small.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
    mlflow_url = f"{API}-artifacts/artifacts/{exp}/{rid['run_id']}/artifacts/a.bin"
    assert small.put(mlflow_url, content=blob).status_code == 200
    csv = b"a\n" + b"1\n" * MAX_BODY
    uploaded = small.post(
        "/api/v1/projects/UP/datasets/d/versions", files={"file": ("d.csv", csv, "text/csv")}
    )
    assert uploaded.status_code == 201, uploaded.text

    too_big = small.put(mlflow_url, content=b"x" * (MAX_ARTIFACT + 1))
    assert too_big.status_code == 413
    assert (
        too_big.json()["message"]
        == f"artifact is {MAX_ARTIFACT + 1} bytes; the limit is {MAX_ARTIFACT}"
    )


def test_free_json_deeper_than_the_limit_is_400(small: TestClient) -> None:
    exp = small.post(f"{API}/experiments/create", json={"name": "e"}).json()["experiment_id"]
    run = small.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
    tag = {"run_id": run["run_id"], "key": "k", "value": "v"}
    # MLflow handlers read free JSON: an ignored field counts as much as any other
    fits = small.post(f"{API}/runs/set-tag", json={**tag, "x": nested(MAX_JSON_DEPTH - 1)})
    assert fits.status_code == 200, fits.text
    for body in (
        json.dumps({**tag, "x": nested(MAX_JSON_DEPTH)}).encode(),
        b"[" * 3000,  # deeper than orjson goes: the fallback parser must not crash
    ):
        response = small.post(f"{API}/runs/set-tag", content=body, headers=JSON)
        assert response.status_code == 400, response.text
        assert response.json() == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": f"malformed JSON body: nested deeper than {MAX_JSON_DEPTH} levels",
        }
    batch = {"run_id": run["run_id"], "params": [{"key": "p", "value": nested(2)}]}
    assert small.post(f"{API}/runs/log-batch", json=batch).status_code == 400

    small.post("/api/v1/projects", json={"key": "DEEP", "name": "d"})
    url = "/api/v1/projects/DEEP/datasets"
    too_deep = {"column": "a", "allowed": nested(MAX_JSON_DEPTH)}
    deep = small.post(url, json={"name": "a", "expectations": [too_deep]})
    assert deep.status_code == 400
    assert f"nests deeper than {MAX_JSON_DEPTH} levels" in deep.json()["error"]["message"]
    ok = small.post(url, json={"name": "b", "expectations": [{"column": "a", "allowed": [0, 1]}]})
    assert ok.status_code == 201, ok.text
    stack = small.post("/api/v1/projects", content=b"[" * 3000, headers=JSON)
    assert stack.status_code == 400
    assert "nested deeper than" in stack.json()["error"]["message"]
