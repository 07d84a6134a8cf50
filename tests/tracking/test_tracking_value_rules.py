"""One set of rules for run params, tags and metric keys (tracking.validation), the same
through every door and on both stores: the native API, the MLflow per-call endpoints
(log-parameter, set-tag, log-metric) and MLflow's log-batch answer each case in one
table alike, and a refused value stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from loopwise.core.errors import InvalidInput
from loopwise.tracking import validation

API = "/api/2.0/mlflow"


# (what, key, value, accepted, words of the refusal)
CASES: list[tuple[str, str, Any, bool, str]] = [
    ("param", "p6000", "v" * 6000, True, ""),
    ("param", "p6001", "v" * 6001, False, "at most 6000 characters"),
    ("param", "p100k", "v" * 100_000, False, "at most 6000 characters"),
    ("tag", "t8000", "v" * 8000, True, ""),
    ("tag", "t8001", "v" * 8001, False, "at most 8000 characters"),
    ("param", "k" * 250, "1", True, ""),
    ("tag", "k" * 251, "1", False, "at most 250 characters"),
    ("metric", "m" * 251, 1.0, False, "at most 250 characters"),
    ("param", "", "1", False, ""),  # MLflow's wording on its per-call door: "Missing value"
    ("param", "nul\x00key", "1", False, "should match pattern"),
    ("tag", "nul\x00key", "1", False, "should match pattern"),
    ("metric", "nul\x00key", 1.0, False, "should match pattern"),
    ("param", "tab\tkey", "1", False, "should match pattern"),
    ("tag", "bell\x07key", "1", False, "should match pattern"),
    ("tag", "odd%key", "1", False, "should match pattern"),
    ("param", "pnul", "a\x00b", False, "NUL characters cannot be stored"),
    ("tag", "tnul", "a\x00b", False, "NUL characters cannot be stored"),
    ("param", "température / lr:0.1-x_y", "1", True, ""),
    ("metric", "val/auc:1 é", 1.0, True, ""),
    ("tag", "lines", "two\nlines\tand a tab", True, ""),
]


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
    return _mlflow_answer(api.post(f"{API}/runs/{path}", json=body))


def mlflow_batch(api: TestClient, run: str, what: str, key: str, value: Any) -> tuple[int, str]:
    item = {"key": key, "value": value, "timestamp": 1, "step": 0}
    return _mlflow_answer(
        api.post(f"{API}/runs/log-batch", json={"run_id": run, what + "s": [item]})
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


@pytest.mark.store
@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_applies_the_same_rules(api: TestClient, door: str) -> None:
    assert api.post("/api/v1/projects", json={"key": "RULES", "name": "r"}).status_code == 201
    run = api.post("/api/v1/projects/RULES/runs", json={}).json()["id"]
    send = DOORS[door]
    problems = []
    for what, key, value, accepted, says in CASES:
        before = stored(api, run)
        status, message = send(api, run, what, key, value)
        after = stored(api, run)
        name = f"{what} {key[:20]!r}={str(value)[:20]!r}"
        if accepted:
            if status >= 300:
                problems.append(f"{name}: refused {status} {message}")
            elif after[what].get(key) != value:
                problems.append(f"{name}: stored {str(after[what].get(key))[:40]!r}")
        else:
            if status != 400 or says not in message:
                problems.append(f"{name}: {status} {message[:200]!r}")
            if after != before:
                problems.append(f"{name}: stored something")
    assert not problems, "\n".join(problems)


@pytest.mark.store
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


def test_params_of_one_batch() -> None:
    assert validation.params([("a", "1"), ("b", 2), ("a", "1"), ("c", None)]) == {
        "a": "1",
        "b": "2",
        "c": "",
    }
    with pytest.raises(InvalidInput, match=r"submitted: \['a', 'b'\]"):
        validation.params([("a", "1"), ("b", "1"), ("a", "2"), ("b", True), ("a", "3")])
    assert validation.tags([("t", "1"), ("t", "2")]) == {"t": "2"}  # tags may change


@pytest.mark.parametrize(
    ("given", "text"),
    [("x", "x"), (None, ""), (3, "3"), (0.5, "0.5"), (True, "True"), (2**63 - 1, str(2**63 - 1))],
)
def test_mlflow_values_are_taken_as_text(given: Any, text: str) -> None:
    assert validation.text(given, "value") == text


@pytest.mark.parametrize(
    "given",
    [2**64, -(2**64), 10**5000, [1], {"a": 1}],
    ids=["2**64", "-2**64", "10**5000", "list", "object"],
)
def test_values_that_are_not_text_are_refused(given: Any) -> None:
    with pytest.raises(InvalidInput, match="expected a string"):
        validation.text(given, "value")
