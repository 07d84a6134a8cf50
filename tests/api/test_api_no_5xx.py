"""No input, however odd, makes the API answer with a 5xx.

A fixed list of hostile requests (NUL characters, lone surrogates, numbers and dates out of
range, deep nesting, hostile paths), then generated JSON bodies for every write endpoint.
Each answer below 500; each error in the one documented shape.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_support import Seed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

pytestmark = pytest.mark.store

JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
NUL = "a\x00b"
BIG = "99999999999999999999"  # past 64 bits
MLFLOW = "/api/2.0/mlflow"


def body(data: Any) -> dict[str, Any]:
    return {"json": data}


def raw(data: bytes) -> dict[str, Any]:
    return {"content": data, "headers": JSON}


HOSTILE: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "NUL characters": [
        ("POST", "/api/v1/projects", body({"key": "NUL", "name": NUL})),
        ("POST", "/api/v1/projects", body({"key": "NUL", "name": "n", "description": NUL})),
        ("PATCH", "/api/v1/projects/CHURN", body({"charter": {"problem": NUL}})),
        ("POST", "/api/v1/projects/CHURN/items", body({"title": NUL, "labels": [NUL]})),
        ("POST", "/api/v1/projects/CHURN/runs", body({"name": NUL})),
        ("POST", "/api/v1/projects/CHURN/runs", body({"experiment": NUL})),
        ("POST", "/api/v1/projects/CHURN/runs", body({"hypotheses": [NUL]})),
        ("POST", "/api/v1/projects/CHURN/experiments", body({"name": NUL})),
        ("POST", "/api/v1/projects/CHURN/hypotheses",
         body({"title": "t", "statement": NUL, "metric_key": "m", "threshold": 1})),
        ("POST", "/api/v1/runs/{run}/params", body({"params": {"p": NUL}})),
        ("POST", "/api/v1/runs/{run}/tags", body({"tags": {"t": NUL}})),
        ("POST", "/api/v1/runs/{run}/metrics", body({"metrics": [{"key": NUL, "value": 1}]})),
        ("POST", "/api/v1/tokens", body({"name": NUL})),
        ("POST", "/api/v1/users", body({"username": NUL})),
        ("POST", "/api/v1/login", body({"username": NUL, "password": NUL})),
        ("PUT", "/api/v1/projects/CHURN/members", body({"username": NUL, "role": "viewer"})),
        ("GET", "/api/v1/projects/a%00b", {}),
        ("GET", "/api/v1/items/a%00b/history", {}),
        ("GET", "/api/v1/hypotheses/a%00b", {}),
        ("GET", "/api/v1/runs/a%00b", {}),
        ("GET", "/api/v1/runs/{run}/metric-history?key=a%00b", {}),
        ("GET", "/api/v1/projects/CHURN/runs?experiment=a%00b", {}),
        ("GET", "/api/v1/runs/{run}/artifacts?path=a%00b", {}),
        ("DELETE", "/api/v1/runs/{run}/tags/a%00b", {}),
        ("DELETE", "/api/v1/hypotheses/{hyp}/runs/a%00b", {}),
        ("DELETE", "/api/v1/projects/CHURN/members/a%00b", {}),
        ("DELETE", "/api/v1/tokens/a%00b", {}),
    ],
    "text that is not valid unicode": [
        ("POST", "/api/v1/projects", raw(b'{"key": "SUR", "name": "a\\ud800b"}')),
        ("POST", "/api/v1/runs/{run}/params", raw(b'{"params": {"p": "\\udfff"}}')),
        ("POST", "/api/v1/runs/{run}/tags", raw(b'{"tags": {"t": "\\udbff\\udbff"}}')),
        ("POST", "/api/v1/projects", raw(b'{"key": "LAT", "name": "\xe9t\xe9"}')),
        ("POST", "/api/v1/projects", raw(b"\xef\xbb\xbf{}")),
    ],
    "numbers out of range": [
        ("POST", "/api/v1/runs/{run}/metrics", body({"metrics": [{"key": "m", "value": 10**400}]})),
        ("POST", "/api/v1/runs/{run}/metrics",
         raw(b'{"metrics": [{"key": "m", "value": -1e999}]}')),
        ("POST", "/api/v1/runs/{run}/metrics",
         body({"metrics": [{"key": "m", "value": 1, "step": 10**30}]})),
        ("POST", "/api/v1/runs/{run}/metrics",
         body({"metrics": [{"key": "m", "value": 1, "step": -(10**30)}]})),
        ("POST", "/api/v1/runs/{run}/metrics",
         body({"metrics": [{"key": "m", "value": 1, "timestamp": 10**30}]})),
        ("POST", "/api/v1/projects/CHURN/hypotheses",
         body({"title": "t", "statement": "s", "metric_key": "m", "threshold": 10**400})),
        ("POST", "/api/v1/projects/CHURN/hypotheses",
         body({"title": "t", "statement": "s", "metric_key": "m", "threshold": 1,
               "kill_after_runs": 10**30})),
        ("POST", "/api/v1/projects/CHURN/items", body({"title": "t", "estimate": 10**400})),
        ("PATCH", "/api/v1/projects/CHURN",
         body({"charter": {"business_kpi": {"name": "k", "target": 10**400}}})),
        ("GET", f"/api/v1/projects/CHURN/runs?offset={2**64}", {}),
        ("GET", f"/api/v1/projects/CHURN/runs?limit={2**64}", {}),
        ("GET", "/api/v1/projects/CHURN/runs?limit=-1", {}),
        ("GET", "/api/v1/projects/CHURN/runs?offset=1e3", {}),
    ],
    "dates out of range": [
        ("POST", "/api/v1/projects/CHURN/hypotheses",
         body({"title": "t", "statement": "s", "metric_key": "m", "threshold": 1,
               "time_box_end": "9999-12-31T23:59:59-14:00"})),
        ("POST", "/api/v1/projects/CHURN/hypotheses",
         body({"title": "t", "statement": "s", "metric_key": "m", "threshold": 1,
               "time_box_end": "0001-01-01T00:00:00+14:00"})),
        ("POST", "/api/v1/projects/CHURN/hypotheses",
         body({"title": "t", "statement": "s", "metric_key": "m", "threshold": 1,
               "time_box_end": 10**20})),
        ("POST", "/api/v1/projects/CHURN/runs", body({"start_time": "0000-01-01T00:00:00"})),
        ("POST", "/api/v1/projects/CHURN/runs", body({"start_time": "0001-01-01T00:00:00+01:00"})),
        ("POST", "/api/v1/runs/{run}/finish", body({"end_time": "9999-12-31T23:59:59-01:00"})),
        ("POST", "/api/v1/runs/{run}/finish", body({"end_time": -(10**20)})),
    ],
    "odd shapes and sizes": [
        ("POST", "/api/v1/projects", raw(b"[" * 100_000 + b"]" * 100_000)),
        ("POST", "/api/v1/projects", raw(b'{"key": "DEEP", "name": "x", "charter": '
                                        + b'{"problem": ' * 3000 + b'"x"' + b"}" * 3001)),
        ("POST", "/api/v1/projects", raw(b'"just a string"')),
        ("POST", "/api/v1/projects", raw(b"null")),
        ("POST", "/api/v1/projects", raw(b"")),
        ("POST", "/api/v1/projects", {"content": b"key=X&name=y", "headers": FORM}),
        ("POST", "/api/v1/projects", {"content": b'{"key": "PLN", "name": "x"}',
                                      "headers": {"content-type": "text/plain"}}),
        ("POST", "/api/v1/projects",
         body({"key": "BIG", "name": "x", "description": "d" * 200_000})),
        ("POST", "/api/v1/runs/{run}/params",
         body({"params": {f"p{i}": "v" for i in range(1001)}})),
        ("POST", "/api/v1/runs/{run}/metrics", body({"metrics": {"key": "m", "value": 1}})),
        ("GET", "/api/v1/projects/" + "A" * 5000, {}),
        ("GET", "/api/v1/items/" + "CHURN-" + "9" * 400, {}),
        ("GET", "/api/v1/runs/{run}/metric-history", {}),
        ("GET", "/api/v1/runs/{run}/metric-history?key=" + "k" * 300, {}),
        ("POST", "/api/v1/hypotheses/{hyp}/runs", body({"run_id": "r" * 41})),
        ("POST", "/api/v1/hypotheses/{hyp}/runs", body({"run_id": ["x"]})),
        ("PATCH", "/api/v1/items/{hyp}", body({"title": None})),
        ("PATCH", "/api/v1/items/{hyp}", body({"assignee": "nobody"})),
        ("POST", "/api/v1/items/{hyp}/status", body({"status": "🙂"})),
        ("OPTIONS", "/api/v1/projects", {}),
        ("PATCH", "/api/v1/runs/{run}", body({})),
    ],
    "hostile artifact paths": [
        ("PUT", "/api/v1/runs/{run}/artifacts/%2e%2e%2f%2e%2e%2fetc%2fpasswd", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/.%2e/x", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/x%2f%2f%2fy", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/%2fetc%2fpasswd", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/" + "d/" * 600 + "f", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/%ff%fe", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/.", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/", {"content": b"x"}),
        ("PUT", "/api/v1/runs/{run}/artifacts/a%0Ab", {"content": b"x"}),
        ("GET", "/api/v1/runs/{run}/artifacts/.", {}),
        ("GET", "/api/v1/runs/{run}/artifacts/%ff", {}),
        ("GET", "/api/v1/runs/{run}/artifacts?path=/", {}),
        ("GET", "/api/v1/runs/{run}/artifacts?path=" + "n" * 300, {}),
        ("GET", "/api/v1/runs/{run}/artifacts?path=model/notes.txt/x", {}),
    ],
    "numbers no column holds, nulls for required fields": [
        ("GET", f"/api/v1/projects/CHURN/cycles/{BIG}/report", {}),
        ("POST", f"/api/v1/projects/CHURN/cycles/{BIG}/items", body({"items": ["{hyp}"]})),
        ("DELETE", f"/api/v1/projects/CHURN/cycles/{2**64}/items/{{hyp}}", {}),
        ("GET", f"/api/v1/projects/CHURN/board?cycle={BIG}", {}),
        ("GET", f"/api/v1/risks/CHURN-R{BIG}", {}),
        ("GET", f"/api/v1/models/churn-gbm/versions/-{BIG}", {}),
        ("GET", "/api/v1/projects/CHURN/forecast/when?items_high=5&seed=-1", {}),
        ("GET", f"/api/v1/projects/CHURN/forecast/when?items=3&seed={BIG}{BIG}", {}),
        ("PATCH", "/api/v1/risks/CHURN-R1",
         body({"category": None, "likelihood": None, "impact": None, "status": None})),
        ("POST", f"{MLFLOW}/runs/create", body({"experiment_id": BIG})),
        ("POST", f"{MLFLOW}/runs/create", body({"experiment_id": int(BIG)})),
        ("GET", f"{MLFLOW}/experiments/get?experiment_id={BIG}", {}),
        ("POST", f"{MLFLOW}/experiments/delete", body({"experiment_id": BIG})),
        ("POST", f"{MLFLOW}/runs/search", body({"experiment_ids": [BIG]})),
        ("POST", f"{MLFLOW}/logged-models", body({"experiment_id": BIG, "name": "m"})),
        ("POST", f"{MLFLOW}/runs/create", body({"tags": [1]})),
        ("POST", f"{MLFLOW}/runs/create", body({"tags": [[]], "experiment_id": "0"})),
        ("POST", f"{MLFLOW}/experiments/create", body({"name": "e", "tags": [None]})),
        ("GET", f"{MLFLOW}/model-versions/get?name=churn-gbm&version={BIG}", {}),
        ("POST", f"{MLFLOW}/registered-models/alias",
         body({"name": "churn-gbm", "alias": "a", "version": BIG})),
    ],
}  # fmt: skip


def fill(text: str, seed: Seed) -> str:
    return text.replace("{run}", seed.run_id).replace("{hyp}", seed.hypothesis)


def check_answer(response: Any, what: str) -> str | None:
    """A problem description, or None when the answer is acceptable."""
    if response.status_code >= 500:
        return f"{what}: {response.status_code} {response.text[:200]}"
    if response.status_code >= 400 and what.split()[1].startswith(MLFLOW):
        try:
            error = response.json()
        except ValueError:
            error = None
        if not isinstance(error, dict) or set(error) != {"error_code", "message"}:
            return f"{what}: {response.status_code} not MLflow's error shape: {response.text[:200]}"
    elif response.status_code >= 400:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            return f"{what}: {response.status_code} without the error shape: {response.text[:200]}"
        if set(error) != {"code", "message"} or not error["message"]:
            return f"{what}: bad error body {error!r}"
    return None


@pytest.mark.parametrize("family", list(HOSTILE))
def test_hostile_requests_never_get_a_5xx(api: TestClient, seed: Seed, family: str) -> None:
    problems = []
    for method, path, kwargs in HOSTILE[family]:
        response = api.request(method, fill(path, seed), **kwargs)
        problem = check_answer(response, f"{method} {path[:80]}")
        if problem:
            problems.append(problem)
    assert not problems, "\n".join(problems)


# --- generated bodies ------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "", "CHURN-1", "2026-01-05T09:00:00Z"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)

# Each endpoint with the fields it knows, so generated bodies often get past the first check.
ENDPOINTS = {
    ("POST", "/api/v1/projects"): ["key", "name", "description", "phase", "charter"],
    ("PATCH", "/api/v1/projects/CHURN"): ["name", "description", "phase", "charter"],
    ("POST", "/api/v1/projects/CHURN/items"): ["title", "kind", "estimate", "labels", "assignee"],
    ("POST", "/api/v1/projects/CHURN/hypotheses"): [
        "title", "statement", "metric_key", "comparator", "threshold", "time_box_end",
        "kill_after_runs", "kill_threshold", "baseline",
    ],
    ("POST", "/api/v1/projects/CHURN/runs"): [
        "experiment", "name", "params", "tags", "git_commit", "hypotheses", "start_time",
    ],
    ("POST", "/api/v1/runs/{run}/metrics"): ["metrics"],
    ("POST", "/api/v1/runs/{run}/params"): ["params"],
    ("POST", "/api/v1/runs/{run}/tags"): ["tags"],
    ("POST", "/api/v1/runs/{run}/finish"): ["status", "end_time"],
    ("POST", "/api/v1/hypotheses/{hyp}/runs"): ["run_id"],
    ("POST", "/api/v1/items/{hyp}/status"): ["status", "note"],
    ("PUT", "/api/v1/projects/CHURN/members"): ["username", "role"],
    ("POST", "/api/v1/tokens"): ["name"],
    ("PATCH", "/api/v1/risks/CHURN-R1"): [
        "title", "category", "likelihood", "impact", "status", "owner", "next_review",
    ],
    ("POST", f"{MLFLOW}/runs/create"): ["experiment_id", "tags", "start_time", "run_name"],
    ("POST", f"{MLFLOW}/experiments/create"): ["name", "tags"],
}  # fmt: skip


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, Any]:
    method, path = draw(st.sampled_from(list(ENDPOINTS)))
    fields = ENDPOINTS[(method, path)]
    if path.endswith("/metrics") and draw(st.booleans()):
        point = st.fixed_dictionaries(
            {"key": st.sampled_from(["loss", "a/b", ""]), "value": json_values},
            optional={"step": json_values, "timestamp": json_values},
        )
        return method, path, {"metrics": draw(st.lists(point, min_size=1, max_size=3))}
    data = draw(st.dictionaries(st.sampled_from(fields), json_values, max_size=len(fields)))
    return method, path, data


@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_generated_bodies_never_get_a_5xx(
    api: TestClient, seed: Seed, request: tuple[str, str, Any]
) -> None:
    method, path, data = request
    response = api.request(method, fill(path, seed), json=data)
    problem = check_answer(response, f"{method} {path} {json.dumps(data)[:200]}")
    assert problem is None, problem
