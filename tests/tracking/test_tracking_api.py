"""What only the tracking doors do, over HTTP: query parameters, status codes, the JSON
form of times and values, streamed artifact bodies, raw paths, and that the native and
MLflow doors apply one set of value rules. The use cases behind them are tested directly
in the other files of this folder."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient
from tracking_rules import CASES, said

pytestmark = pytest.mark.store

MLFLOW = "/api/2.0/mlflow"
BLOB = bytes(range(256)) * 33  # every byte value, 8448 bytes


@pytest.fixture
def project(api: TestClient) -> str:
    assert api.post("/api/v1/projects", json={"key": "CHURN", "name": "Churn"}).status_code == 201
    return "CHURN"


@pytest.fixture
def run_id(api: TestClient, project: str) -> str:
    response = api.post(f"/api/v1/projects/{project}/runs", json={})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_runs_are_listed_by_the_query_string(api: TestClient, project: str) -> None:
    for name, experiment, status in [
        ("a1", "a", "finished"), ("a2", "a", None), ("b1", "b", "failed"), ("b2", "b", None),
    ]:  # fmt: skip
        run = api.post(
            f"/api/v1/projects/{project}/runs", json={"name": name, "experiment": experiment}
        ).json()
        if status:
            api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": status})

    def names(**query: object) -> list[str]:
        response = api.get(f"/api/v1/projects/{project}/runs", params=query)
        assert response.status_code == 200, response.text
        return sorted(r["name"] for r in response.json())

    assert names() == ["a1", "a2", "b1", "b2"]
    assert names(experiment="b") == ["b1", "b2"]
    assert names(status="failed") == ["b1"]
    assert names(experiment="a", status="finished") == ["a1"]
    assert len(names(limit=3)) == 3 and len(names(limit=3, offset=3)) == 1
    for bad in ({"status": "done"}, {"limit": 0}, {"limit": 1001}, {"offset": -1}):
        response = api.get(f"/api/v1/projects/{project}/runs", params=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "invalid_input"


def test_times_are_written_in_utc(api: TestClient, project: str) -> None:
    response = api.post(
        f"/api/v1/projects/{project}/runs", json={"start_time": "2026-01-01T12:00:00+02:00"}
    )
    assert response.status_code == 201
    assert response.json()["start_time"] == "2026-01-01T10:00:00Z"
    naive = api.post(f"/api/v1/projects/{project}/runs", json={"start_time": "2026-01-01T12:00"})
    assert api.get(f"/api/v1/runs/{naive.json()['id']}").json()["start_time"] == (
        "2026-01-01T12:00:00Z"
    )


def test_an_experiment_is_201_whether_created_or_found(api: TestClient, project: str) -> None:
    first = api.post(f"/api/v1/projects/{project}/experiments", json={"name": "tuning"})
    again = api.post(f"/api/v1/projects/{project}/experiments", json={"name": "tuning"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert set(first.json()) == {"id", "project_id", "name", "created_at"}
    listed = api.get(f"/api/v1/projects/{project}/experiments").json()
    assert [e["name"] for e in listed] == ["tuning"]


def test_a_tag_is_deleted_by_its_key_in_the_path(api: TestClient, run_id: str) -> None:
    tags = {"team": "growth", "data/source": "crm", "stage": "dev"}
    assert api.post(f"/api/v1/runs/{run_id}/tags", json={"tags": tags}).status_code == 204
    for key in ("team", "data/source", "never-set"):  # a key may hold "/"
        response = api.delete(f"/api/v1/runs/{run_id}/tags/{key}")
        assert response.status_code == 204 and response.content == b""
    assert api.get(f"/api/v1/runs/{run_id}").json()["tags"] == {"stage": "dev"}


def test_artifacts_stream_in_and_out(api: TestClient, run_id: str) -> None:
    base = f"/api/v1/runs/{run_id}/artifacts"
    for path, content in [("model/weights.bin", BLOB), ("empty", b"")]:
        response = api.put(f"{base}/{path}", content=content)
        assert response.status_code == 201, response.text
        assert response.json() == {"path": path, "size": len(content), "is_dir": False}
    assert api.get(base).json() == [
        {"path": "empty", "size": 0, "is_dir": False},
        {"path": "model", "size": 0, "is_dir": True},
    ]
    assert api.get(base, params={"path": "model"}).json() == [
        {"path": "model/weights.bin", "size": len(BLOB), "is_dir": False}
    ]
    download = api.get(f"{base}/model/weights.bin")
    assert download.status_code == 200 and download.content == BLOB
    assert api.get(f"{base}/empty").content == b""


def test_literal_dot_dot_over_real_http_is_refused(
    app: FastAPI, live_server: object, run_id: str, tmp_path: Path
) -> None:
    """A client that sends "../" as-is (curl --path-as-is) reaches the server with it."""
    port = live_server.port  # type: ignore[attr-defined]
    root = app.state.loopwise.settings.resolved_artifact_root
    for raw_path in [
        f"/api/v1/runs/{run_id}/artifacts/../../../escaped.txt",
        f"/api/v1/runs/{run_id}/artifacts/a/../../../../escaped.txt",
        f"/api/v1/runs/{run_id}/artifacts/./../escaped.txt",
    ]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("PUT", raw_path, body=b"pwned")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        assert response.status == 400, (raw_path, body)
        assert b"may not contain '..'" in body
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not [p for p in root.parent.rglob("*") if p.is_file() and p.name == "escaped.txt"]


def test_metric_columns_and_charts_over_http(api: TestClient, run_id: str) -> None:
    url = f"/api/v1/runs/{run_id}/metric-columns"
    body = {"key": "y", "steps": [0, 1, 2, 3], "values": [0.5, "NaN", "Infinity", -1.0]}
    assert api.post(url, json=body).json() == {"count": 4}
    page = api.get(url, params={"key": "y", "offset": 1, "limit": 2})
    assert page.status_code == 200 and page.headers["content-type"] == "application/json"
    assert page.json() == {
        "key": "y", "steps": [1, 2], "timestamps": page.json()["timestamps"],
        "values": ["NaN", "Infinity"], "next_offset": 3,
    }  # fmt: skip
    assert api.get(url, params={"key": "y", "offset": 3}).json()["next_offset"] is None
    chart = api.get(f"/api/v1/runs/{run_id}/metric-chart", params={"key": "y", "points": 10})
    assert chart.json()["exact"] is True and chart.json()["nan_count"] == 1
    assert [b["min"] for b in chart.json()["buckets"]] == [0.5, "Infinity", -1.0]
    for params in ({"key": "y", "points": 9}, {"key": "y", "limit": 0}, {}):
        which = "metric-chart" if "points" in params else "metric-columns"
        assert api.get(f"/api/v1/runs/{run_id}/{which}", params=params).status_code == 400
    refused = api.post(url, json={"key": "z", "steps": [1, 2], "values": [1.0]})
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "invalid_input",
        "message": "steps, values and timestamps must have the same length",
    }
    assert set(api.get(f"/api/v1/runs/{run_id}").json()["metrics"]) == {"y"}


# --- one set of value rules through every door ---------------------------------------


def native(api: TestClient, run: str, what: str, key: str, value: Any) -> tuple[int, str]:
    if what == "metric":
        body: dict[str, Any] = {"metrics": [{"key": key, "value": value}]}
    else:
        body = {f"{what}s": {key: value}}
    response = api.post(f"/api/v1/runs/{run}/{what}s", json=body)
    if response.status_code >= 400:
        return response.status_code, response.json()["error"]["message"]
    return response.status_code, ""


def mlflow(api: TestClient, run: str, what: str, key: str, value: Any) -> tuple[int, str]:
    path = {"param": "log-parameter", "tag": "set-tag", "metric": "log-metric"}[what]
    body = {"run_id": run, "key": key, "value": value, "timestamp": 1, "step": 0}
    return _mlflow_answer(api.post(f"{MLFLOW}/runs/{path}", json=body))


def mlflow_batch(api: TestClient, run: str, what: str, key: str, value: Any) -> tuple[int, str]:
    item = {"key": key, "value": value, "timestamp": 1, "step": 0}
    return _mlflow_answer(
        api.post(f"{MLFLOW}/runs/log-batch", json={"run_id": run, what + "s": [item]})
    )


def _mlflow_answer(response: Any) -> tuple[int, str]:
    body = response.json()
    if response.status_code >= 400:
        assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
        return response.status_code, body["message"]
    return response.status_code, ""


DOORS = {"native": native, "mlflow": mlflow, "mlflow log-batch": mlflow_batch}


def stored(api: TestClient, run: str) -> dict[str, dict[str, Any]]:
    found = api.get(f"/api/v1/runs/{run}").json()
    return {
        "param": found["params"],
        "tag": found["tags"],
        "metric": {k: m["value"] for k, m in found["metrics"].items()},
    }


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_applies_the_same_rules(api: TestClient, run_id: str, door: str) -> None:
    send = DOORS[door]
    problems = []
    for what, key, value, accepted, says in CASES:
        before = stored(api, run_id)
        status, message = send(api, run_id, what, key, value)
        after = stored(api, run_id)
        name = f"{what} {key[:20]!r}={str(value)[:20]!r}"
        if accepted:
            if status >= 300:
                problems.append(f"{name}: refused {status} {message}")
            elif after[what].get(key) != value:
                problems.append(f"{name}: stored {str(after[what].get(key))[:40]!r}")
        else:
            if status != 400 or not said(says, message):
                problems.append(f"{name}: {status} {message[:200]!r}")
            if after != before:
                problems.append(f"{name}: stored something")
    assert not problems, "\n".join(problems)
