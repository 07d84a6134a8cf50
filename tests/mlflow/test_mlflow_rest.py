"""The MLflow REST door over HTTP: ``log-batch`` bodies as the mlflow client writes them
(int64 fields as strings, bare NaN/Infinity tokens), its answers in MLflow's error shape,
and search answering each run as get-run does. The tracking use cases behind it are
tested directly in tests/tracking.

``log-batch`` validates the body in one pass and writes the points with multi-row
statements of 100 rows plus the remainder: whatever the batch size, history and the
latest-value summary must hold exactly what was sent, and a bad batch must store nothing
at all (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from starlette.testclient import TestClient

from loopwise.core.limits import MAX_FILTER_CLAUSES

pytestmark = pytest.mark.store

API = "/api/2.0/mlflow"
JSON = {"content-type": "application/json"}
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _run(api: TestClient) -> str:
    exp = api.post(f"{API}/experiments/create", json={"name": "batch"}).json()["experiment_id"]
    response = api.post(f"{API}/runs/create", json={"experiment_id": exp, "start_time": 1})
    return response.json()["run"]["info"]["run_id"]


def _history(api: TestClient, run_id: str, key: str) -> list[tuple[int, int, Any]]:
    found: list[tuple[int, int, Any]] = []
    token = None
    while True:
        params = {"run_id": run_id, "metric_key": key, "max_results": 70}
        if token:
            params["page_token"] = token
        page = api.get(f"{API}/metrics/get-history", params=params).json()
        found += [(m["step"], m["timestamp"], m["value"]) for m in page.get("metrics", [])]
        token = page.get("next_page_token")
        if not token:
            return found


def _same(sent: Any, stored: Any) -> bool:
    a = NON_FINITE.get(sent, sent) if isinstance(sent, str) else sent
    b = NON_FINITE.get(stored, stored) if isinstance(stored, str) else stored
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("size", [1, 99, 100, 257])
def test_batches_of_any_size_store_every_point(api: TestClient, size: int) -> None:
    run_id = _run(api)
    specials = ["NaN", "Infinity", "-Infinity", math.nan, -math.inf, -0.5, 1e300]
    metrics = [
        {
            "key": ("loss", "val/auc")[i % 2],
            "value": specials[i % 9] if i % 9 < len(specials) else i / 3,
            # protobuf JSON: int64 fields arrive as strings from the mlflow client
            "timestamp": str(1_700_000_000_000 + i),
            "step": str(i // 2),
        }
        for i in range(size)
    ]
    body = {
        "run_id": run_id,
        "metrics": metrics,
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "team", "value": "churn"}],
    }
    # the mlflow client writes bare NaN/Infinity tokens for non-finite doubles
    raw = json.dumps(body).encode()
    response = api.post(f"{API}/runs/log-batch", content=raw, headers=JSON)
    assert response.status_code == 200, response.text

    for key in ("loss", "val/auc"):
        sent = [m for m in metrics if m["key"] == key]
        stored = _history(api, run_id, key)
        assert len(stored) == len(sent)
        for m, (step, ts, value) in zip(sent, stored, strict=True):
            assert (step, ts) == (int(m["step"]), int(m["timestamp"]))
            assert _same(m["value"], value)
    run = api.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    latest = {m["key"]: m for m in run["data"]["metrics"]}
    for key in ("loss", "val/auc"):
        last = [m for m in metrics if m["key"] == key][-1:]  # highest step, then timestamp
        if last:
            assert _same(last[0]["value"], latest[key]["value"])
            assert latest[key]["step"] == int(last[0]["step"])
    assert run["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert {"key": "team", "value": "churn"} in run["data"]["tags"]


GOOD = {"key": "ok", "value": 1.0, "timestamp": 1, "step": 0}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"run_id": "x", "metrics": [', "malformed JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "malformed JSON"),
        ({"run_id": None, "metrics": [GOOD]}, "run_id"),
        ({"metrics": {"key": "a"}}, "metrics"),
        ({"metrics": [GOOD, {**GOOD, "value": True}]}, "metrics[1].value"),
        ({"metrics": [GOOD, {**GOOD, "value": "abc"}]}, "metrics[1].value"),
        ({"metrics": [GOOD, {**GOOD, "value": None}]}, "metrics[1].value"),
        ({"metrics": [GOOD, {"value": 1.0}]}, "metrics[1].key"),
        ({"metrics": [GOOD, {**GOOD, "key": "bad\u0000key"}]}, "metrics[1].key"),
        ({"metrics": [GOOD, {**GOOD, "key": "k" * 251}]}, "metrics[1].key"),
        ({"metrics": [GOOD, {**GOOD, "step": "1.5"}]}, "metrics[1].step"),
        ({"metrics": [GOOD, {**GOOD, "step": 2**63}]}, "metrics[1].step"),
        ({"metrics": [GOOD, {**GOOD, "timestamp": -1}]}, "metrics[1].timestamp"),
        ({"metrics": [GOOD] * 1001}, "metrics"),
        ({"metrics": [GOOD], "params": [{"key": ""}]}, "params.0.key"),
        ({"metrics": [GOOD], "tags": [{"value": "v"}]}, "tags[0].key"),
        (
            {
                "params": [{"key": f"p{i}", "value": "1"} for i in range(600)],
                "tags": [{"key": f"t{i}", "value": "1"} for i in range(401)],
            },
            "at most 1000",
        ),
    ],
)
def test_bad_batches_are_400_and_store_nothing(
    api: TestClient, body: dict[str, Any] | bytes, says: str
) -> None:
    run_id = _run(api)
    if isinstance(body, dict):
        body = json.dumps({"run_id": run_id, **body}).encode()
    response = api.post(f"{API}/runs/log-batch", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in error["message"]
    data = api.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]
    assert data["metrics"] == [] and data["params"] == []


def test_unknown_run_is_404(api: TestClient) -> None:
    response = api.post(f"{API}/runs/log-batch", json={"run_id": "f" * 32, "metrics": [GOOD]})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_search_answers_each_run_as_get_does(api: TestClient) -> None:
    """Search builds its answer from plain page values, get-run from Run objects: the two
    must describe a run identically (info, metrics including non-finite ones, params and
    tags)."""
    exp = api.post(f"{API}/experiments/create", json={"name": "same"}).json()["experiment_id"]
    for i, value in enumerate([0.5, "NaN", "-Infinity", 2.0]):
        info = api.post(
            f"{API}/runs/create",
            json={"experiment_id": exp, "start_time": 1_700_000_000_000 + i, "run_name": f"r{i}"},
        ).json()["run"]["info"]
        body = {
            "run_id": info["run_id"],
            "metrics": [
                {"key": "m", "value": value, "timestamp": 5, "step": 1},
                {"key": "a", "value": i, "timestamp": 6, "step": 0},
            ],
            "params": [{"key": "lr", "value": str(i)}, {"key": "depth", "value": "3"}],
            "tags": [{"key": "team", "value": "x"}],
        }
        assert api.post(f"{API}/runs/log-batch", json=body).status_code == 200
        if i % 2:
            end = {"run_id": info["run_id"], "status": "FINISHED", "end_time": 1_800_000_000_000}
            assert api.post(f"{API}/runs/update", json=end).status_code == 200
    found = api.post(
        f"{API}/runs/search",
        json={"experiment_ids": [exp], "order_by": ["metrics.m DESC"], "max_results": 10},
    ).json()["runs"]
    assert len(found) == 4
    for run in found:
        got = api.get(f"{API}/runs/get", params={"run_id": run["info"]["run_id"]}).json()["run"]
        assert run == got


def test_search_of_an_unknown_experiment_is_404(api: TestClient) -> None:
    exp = api.post(f"{API}/experiments/create", json={"name": "known"}).json()["experiment_id"]
    response = api.post(f"{API}/runs/search", json={"experiment_ids": [exp, "999"]})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert api.post(f"{API}/runs/search", json={"experiment_ids": [exp, "0"]}).status_code == 200


def test_the_mlflow_door_answers_invalid_parameter_value(api: TestClient) -> None:
    exp = api.post(f"{API}/experiments/create", json={"name": "x"}).json()["experiment_id"]
    for text, says in [
        (" and ".join(f"params.p{i} = 'a'" for i in range(2000)), f"at most {MAX_FILTER_CLAUSES}"),
        ("attributes.start_time > 1e20", "a time is out of range"),
        ("attributes.end_time < -1e20", "a time is out of range"),
    ]:
        response = api.post(f"{API}/runs/search", json={"experiment_ids": [exp], "filter": text})
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert says in response.json()["message"]


def test_a_batch_may_not_give_a_param_two_values(api: TestClient) -> None:
    exp = api.post(f"{API}/experiments/create", json={"name": "dup"}).json()["experiment_id"]
    run = api.post(f"{API}/runs/create", json={"experiment_id": exp}).json()["run"]["info"]
    batch = {
        "run_id": run["run_id"],
        "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}],
        "tags": [{"key": "t", "value": "x"}],
    }
    twice = [{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.2"}]
    refused = api.post(f"{API}/runs/log-batch", json={**batch, "params": twice})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "['lr']" in refused.json()["message"]
    data = api.get(f"{API}/runs/get", params={"run_id": run["run_id"]}).json()["run"]["data"]
    assert data["params"] == [] and data["metrics"] == []
    assert "t" not in {t["key"] for t in data["tags"]}

    same = [{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.1"}]
    assert api.post(f"{API}/runs/log-batch", json={**batch, "params": same}).status_code == 200
    data = api.get(f"{API}/runs/get", params={"run_id": run["run_id"]}).json()["run"]["data"]
    assert data["params"] == [{"key": "lr", "value": "0.1"}]
