"""Bad input gets a 4xx with ``{"error": {"code", "message"}}`` and changes nothing stored."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from api_support import Seed, SnapshotFn, take_snapshot
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.app import create_app
from loopwise.core import errors
from loopwise.core.clock import FrozenClock
from loopwise.core.settings import Settings

pytestmark = pytest.mark.store


@dataclass(frozen=True)
class Bad:
    """One bad request and the answer it must get."""

    name: str
    method: str
    path: str
    status: int
    code: str
    message: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def metric(value: Any, **extra: Any) -> dict[str, Any]:
    return {"json": {"metrics": [{"key": "auc", "value": value, **extra}]}}


def raw(body: bytes | str) -> dict[str, Any]:
    data = body.encode() if isinstance(body, str) else body
    return {"content": data, "headers": {"content-type": "application/json"}}


LONG_NAME = "n" * 201
HYP = {"title": "t", "statement": "s", "metric_key": "auc", "threshold": 0.8}

# fmt: off
UNKNOWN = [
    Bad("unknown project", "GET", "/api/v1/projects/NOPE", 404, "not_found",
        "project 'NOPE' not found"),
    Bad("unknown project runs", "POST", "/api/v1/projects/NOPE/runs", 404, "not_found",
        "project 'NOPE' not found", {"json": {}}),
    Bad("unknown item", "GET", "/api/v1/items/CHURN-99", 404, "not_found",
        "work item 'CHURN-99' not found"),
    Bad("unknown item history", "GET", "/api/v1/items/CHURN-99/history", 404, "not_found",
        "work item 'CHURN-99' not found"),
    Bad("unknown hypothesis", "GET", "/api/v1/hypotheses/CHURN-99", 404, "not_found",
        "work item 'CHURN-99' not found"),
    Bad("unknown run", "GET", "/api/v1/runs/run_0000", 404, "not_found",
        "run 'run_0000' not found"),
    Bad("metrics to unknown run", "POST", "/api/v1/runs/run_0000/metrics", 404, "not_found",
        "run 'run_0000' not found", metric(1.0)),
    Bad("finish unknown run", "POST", "/api/v1/runs/run_0000/finish", 404, "not_found",
        "run 'run_0000' not found", {"json": {}}),
    Bad("artifact to unknown run", "PUT", "/api/v1/runs/run_0000/artifacts/a.txt", 404,
        "not_found", "run 'run_0000' not found", {"content": b"x"}),
    Bad("link unknown run", "POST", "/api/v1/hypotheses/{hyp}/runs", 404, "not_found",
        "run 'run_0000' not found", {"json": {"run_id": "run_0000"}}),
    Bad("run for unknown hypothesis", "POST", "/api/v1/projects/CHURN/runs", 404, "not_found",
        "work item 'CHURN-99' not found", {"json": {"hypotheses": ["CHURN-99"]}}),
    Bad("unknown metric", "GET", "/api/v1/runs/{run}/metric-history?key=loss", 404,
        "not_found", "has no metric 'loss'"),
    Bad("unknown artifact", "GET", "/api/v1/runs/{run}/artifacts/nothing.bin", 404,
        "not_found", "no artifact 'nothing.bin'"),
    Bad("unknown path", "GET", "/api/v1/nowhere", 404, "not_found", "no such path"),
]
VALUES = [
    Bad("metric text", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric("abc")),
    Bad("metric true", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric(True)),
    Bad("metric null", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric(None)),
    Bad("metric object", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric({})),
    Bad("metric list", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric([1.0])),
    Bad("metric numeric string", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric("0.5")),
    Bad("metric lowercase nan", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value", metric("nan")),
    Bad("metric too large an integer", "POST", "/api/v1/runs/{run}/metrics", 400,
        "invalid_input", "metrics.0.value", metric(10**400)),
    Bad("metric missing value", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.value: Field required", {"json": {"metrics": [{"key": "auc"}]}}),
    Bad("metric step as text", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.step", metric(1.0, step="3")),
    Bad("metric step fraction", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.step", metric(1.0, step=1.5)),
    Bad("metric negative timestamp", "POST", "/api/v1/runs/{run}/metrics", 400,
        "invalid_input", "metrics.0.timestamp", metric(1.0, timestamp=-1)),
    Bad("empty metric batch", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics: List should have at least 1 item", {"json": {"metrics": []}}),
    Bad("metric batch too large", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics: List should have at most 10000 items",
        {"json": {"metrics": [{"key": "auc", "value": 1.0, "step": i} for i in range(10_001)]}}),
]
DUPLICATES = [
    # AlreadyExists is a Conflict (409) with a more specific code.
    Bad("duplicate project key", "POST", "/api/v1/projects", 409, "already_exists",
        "project key 'CHURN' is taken", {"json": {"key": "CHURN", "name": "Again"}}),
    Bad("duplicate project key other case", "POST", "/api/v1/projects", 409, "already_exists",
        "project key 'CHURN' is taken", {"json": {"key": "churn", "name": "Again"}}),
    Bad("param changed", "POST", "/api/v1/runs/{run}/params", 409, "conflict",
        "param 'lr' is already '0.1' on this run; params are immutable",
        {"json": {"params": {"lr": "0.2"}}}),
    Bad("param changed with a new one", "POST", "/api/v1/runs/{run}/params", 409, "conflict",
        "params are immutable", {"json": {"params": {"depth": "3", "lr": "0.3"}}}),
    Bad("finish again differently", "POST", "/api/v1/runs/{other}/finish", 409, "conflict",
        "already ended as finished", {"json": {"status": "failed"}}),
]
SIZES = [
    Bad("project name too long", "POST", "/api/v1/projects", 400, "invalid_input",
        "name: String should have at most 200 characters",
        {"json": {"key": "NEW", "name": LONG_NAME}}),
    Bad("run name too long", "POST", "/api/v1/projects/CHURN/runs", 400, "invalid_input",
        "name: String should have at most 200 characters", {"json": {"name": LONG_NAME}}),
    Bad("experiment name too long", "POST", "/api/v1/projects/CHURN/experiments", 400,
        "invalid_input", "name: String should have at most 200 characters",
        {"json": {"name": LONG_NAME}}),
    Bad("item title too long", "POST", "/api/v1/projects/CHURN/items", 400, "invalid_input",
        "title: String should have at most 200 characters", {"json": {"title": LONG_NAME}}),
    Bad("param value too long", "POST", "/api/v1/runs/{run}/params", 400, "invalid_input",
        "String should have at most 6000 characters",
        {"json": {"params": {"depth": "x" * 6001}}}),
    Bad("tag value too long", "POST", "/api/v1/runs/{run}/tags", 400, "invalid_input",
        "String should have at most 8000 characters", {"json": {"tags": {"team": "x" * 8001}}}),
    Bad("metric key too long", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "metrics.0.key: String should have at most 250 characters",
        {"json": {"metrics": [{"key": "k" * 251, "value": 1.0}]}}),
    Bad("param key too long", "POST", "/api/v1/runs/{run}/params", 400, "invalid_input",
        "String should have at most 250 characters", {"json": {"params": {"k" * 251: "1"}}}),
    Bad("metric key with odd characters", "POST", "/api/v1/runs/{run}/metrics", 400,
        "invalid_input", "metrics.0.key: String should match pattern",
        {"json": {"metrics": [{"key": "auc%", "value": 1.0}]}}),
]
BODIES = [
    Bad("malformed JSON", "POST", "/api/v1/projects", 400, "invalid_input",
        "malformed JSON", raw('{"key": "NEW", "name": ')),
    Bad("malformed JSON metrics", "POST", "/api/v1/runs/{run}/metrics", 400, "invalid_input",
        "malformed JSON", raw("{metrics: []}")),
    Bad("not UTF-8", "POST", "/api/v1/projects", 400, "invalid_input", "malformed JSON",
        raw(b"\xff\xfe{}")),
    Bad("body is a list", "POST", "/api/v1/projects", 400, "invalid_input",
        "valid dictionary", raw("[]")),
    Bad("no body", "POST", "/api/v1/projects", 400, "invalid_input", "Field required"),
    Bad("name is a number", "POST", "/api/v1/projects", 400, "invalid_input",
        "name: Input should be a valid string", {"json": {"key": "NEW", "name": 5}}),
    Bad("bad project key", "POST", "/api/v1/projects", 400, "invalid_input",
        "key: String should match pattern", {"json": {"key": "1X", "name": "x"}}),
    Bad("threshold is text", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "threshold: Input should be a valid number",
        {"json": {**HYP, "threshold": "high"}}),
    Bad("threshold is NaN", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "threshold: Input should be a finite number",
        raw(json.dumps({**HYP, "threshold": math.nan}))),
    Bad("unknown comparator", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "comparator", {"json": {**HYP, "comparator": "=="}}),
    Bad("kill after zero runs", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "kill_after_runs", {"json": {**HYP, "kill_after_runs": 0}}),
    Bad("kill threshold alone", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "kill_threshold needs kill_after_runs",
        {"json": {**HYP, "kill_threshold": 0.5}}),
    Bad("time-box not a date", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "time_box_end", {"json": {**HYP, "time_box_end": "next week"}}),
    Bad("time-box out of range", "POST", "/api/v1/projects/CHURN/hypotheses", 400,
        "invalid_input", "time_box_end",
        {"json": {**HYP, "time_box_end": "9999-12-31T23:59:59-05:00"}}),
    Bad("start time out of range", "POST", "/api/v1/projects/CHURN/runs", 400,
        "invalid_input", "start_time", {"json": {"start_time": "0001-01-01T00:00:00+05:00"}}),
    Bad("hypothesis as a plain item", "POST", "/api/v1/projects/CHURN/items", 400,
        "invalid_input", "create hypotheses through the hypothesis endpoint",
        {"json": {"title": "t", "kind": "hypothesis"}}),
    Bad("unknown field on project", "POST", "/api/v1/projects", 400, "invalid_input",
        "colour: Extra inputs are not permitted",
        {"json": {"key": "NEW", "name": "x", "colour": "red"}}),
    Bad("unknown field on metric", "POST", "/api/v1/runs/{run}/metrics", 400,
        "invalid_input", "metrics.0.unit: Extra inputs are not permitted", metric(1.0, unit="s")),
    Bad("unknown field on charter", "PATCH", "/api/v1/projects/CHURN", 400, "invalid_input",
        "charter.mood: Extra inputs are not permitted", {"json": {"charter": {"mood": "ok"}}}),
    Bad("unknown phase", "PATCH", "/api/v1/projects/CHURN", 400, "invalid_input",
        "phase: Input should be", {"json": {"phase": "party"}}),
    Bad("finish as running", "POST", "/api/v1/runs/{run}/finish", 400, "invalid_input",
        "finished, failed or killed", {"json": {"status": "running"}}),
    Bad("finish before start", "POST", "/api/v1/runs/{run}/finish", 400, "invalid_input",
        "end_time is before the run's start_time",
        {"json": {"end_time": "2020-01-01T00:00:00Z"}}),
    Bad("run from another project as evidence", "POST", "/api/v1/hypotheses/{hyp}/runs", 400,
        "invalid_input", "belongs to project FRAUD", {"json": {"run_id": "{other}"}}),
    Bad("bad run status filter", "GET", "/api/v1/projects/CHURN/runs?status=done", 400,
        "invalid_input", "query.status"),
    Bad("limit too large", "GET", "/api/v1/projects/CHURN/runs?limit=1001", 400,
        "invalid_input", "query.limit"),
    Bad("offset too large", "GET", f"/api/v1/projects/CHURN/runs?offset={10**30}", 400,
        "invalid_input", "query.offset"),
    Bad("wrong method", "DELETE", "/api/v1/projects/CHURN", 405, "method_not_allowed",
        "Method Not Allowed"),
]
ARTIFACT_PATHS = [
    Bad("artifact encoded dot-dot", "PUT", "/api/v1/runs/{run}/artifacts/%2e%2e/x", 400,
        "invalid_input", "may not contain '..'", {"content": b"x"}),
    Bad("artifact encoded dot-dot upper", "PUT",
        "/api/v1/runs/{run}/artifacts/a/%2E%2E/%2E%2E/x", 400, "invalid_input",
        "may not contain '..'", {"content": b"x"}),
    Bad("artifact encoded slashes", "PUT",
        "/api/v1/runs/{run}/artifacts/a%2F..%2F..%2F..%2Fx", 400, "invalid_input",
        "may not contain '..'", {"content": b"x"}),
    Bad("artifact absolute", "PUT", "/api/v1/runs/{run}/artifacts//etc/passwd", 400,
        "invalid_input", "must be relative", {"content": b"x"}),
    Bad("artifact backslash", "PUT", "/api/v1/runs/{run}/artifacts/..%5Cx", 400,
        "invalid_input", "backslash", {"content": b"x"}),
    Bad("artifact NUL", "PUT", "/api/v1/runs/{run}/artifacts/a%00b", 400, "invalid_input",
        "NUL", {"content": b"x"}),
    Bad("artifact name too long", "PUT", "/api/v1/runs/{run}/artifacts/" + "n" * 300, 400,
        "invalid_input", "longer than 255 bytes", {"content": b"x"}),
    Bad("artifact under a file", "PUT", "/api/v1/runs/{run}/artifacts/model/notes.txt/x", 409,
        "conflict", "part of that path is already an artifact file", {"content": b"x"}),
    Bad("artifact onto a folder", "PUT", "/api/v1/runs/{run}/artifacts/model", 400,
        "invalid_input", "is a folder", {"content": b"x"}),
    Bad("download encoded dot-dot", "GET", "/api/v1/runs/{run}/artifacts/%2e%2e/%2e%2e/x",
        400, "invalid_input", "may not contain '..'"),
    Bad("list dot-dot", "GET", "/api/v1/runs/{run}/artifacts?path=../..", 400,
        "invalid_input", "may not contain '..'"),
]
BIG = "99999999999999999999"  # past 64 bits: no column holds it
BIG_TOKEN = "eyJvZmZzZXQiOiAxMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwfQ=="  # offset 10**30
MLFLOW = "/api/2.0/mlflow"
NUMBERS_AND_NULLS = [
    Bad("cycle number past 64 bits", "GET", f"/api/v1/projects/CHURN/cycles/{BIG}/report", 404,
        "not_found", f"CHURN has no cycle {BIG}"),
    Bad("plan into a cycle past 64 bits", "POST", f"/api/v1/projects/CHURN/cycles/{BIG}/items",
        404, "not_found", f"CHURN has no cycle {BIG}", {"json": {"items": ["{hyp}"]}}),
    Bad("unplan from a cycle past 64 bits", "DELETE",
        f"/api/v1/projects/CHURN/cycles/{BIG}/items/{{hyp}}", 404, "not_found",
        f"CHURN has no cycle {BIG}"),
    Bad("cycle number past 32 bits", "GET", f"/api/v1/projects/CHURN/cycles/{2**40}/report",
        404, "not_found", f"CHURN has no cycle {2**40}"),
    Bad("cycle number below -2**63", "GET", f"/api/v1/projects/CHURN/cycles/-{BIG}/report",
        404, "not_found", "has no cycle"),
    Bad("risk number past 64 bits", "GET", f"/api/v1/risks/CHURN-R{BIG}", 404, "not_found",
        "not found"),
    Bad("model version past 64 bits", "GET", f"/api/v1/models/churn-gbm/versions/{BIG}", 404,
        "not_found", f"has no version {BIG}"),
    Bad("forecast seed below zero", "GET",
        "/api/v1/projects/CHURN/forecast/when?items=5&seed=-1", 400, "invalid_input",
        "query.seed: use a whole number from 0"),
    Bad("forecast range without its low end", "GET",
        "/api/v1/projects/CHURN/forecast/when?items_high=5", 400, "invalid_input",
        "query.items_high: give the low end of the range"),
    Bad("how-many seed below zero", "GET",
        "/api/v1/projects/CHURN/forecast/how-many?by=2030-01-01&seed=-1", 400,
        "invalid_input", "query.seed: use a whole number from 0"),
    Bad("backtest seed below zero", "GET", "/api/v1/projects/CHURN/forecast/backtest?seed=-5",
        400, "invalid_input", "query.seed: use a whole number from 0"),
    *[
        Bad(f"risk {name} null", "PATCH", "/api/v1/risks/CHURN-R1", 400, "invalid_input",
            f"{name} cannot be null", {"json": {name: None}})
        for name in ("category", "likelihood", "impact", "status", "description", "owner",
                     "mitigation")
    ],
    Bad("risk title null", "PATCH", "/api/v1/risks/CHURN-R1", 400, "invalid_input",
        "title", {"json": {"title": None}}),
    Bad("evaluation labels that are objects", "POST", "/api/v1/projects/CHURN/evaluations",
        400, "invalid_input", "",
        {"json": {"task": "regression", "y_true": [{}, {}], "y_pred": [1, 2]}}),
]
MLFLOW_DOOR = [  # MLflow's error body: {"error_code", "message"}
    Bad("get experiment past 64 bits", "GET", f"{MLFLOW}/experiments/get?experiment_id={BIG}",
        404, "RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with ID {BIG}"),
    Bad("get experiment below -2**63", "GET",
        f"{MLFLOW}/experiments/get?experiment_id=-{BIG}", 404, "RESOURCE_DOES_NOT_EXIST",
        "Could not find experiment"),
    Bad("run in an experiment past 64 bits", "POST", f"{MLFLOW}/runs/create", 404,
        "RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with ID {BIG}",
        {"json": {"experiment_id": BIG}}),
    Bad("search an experiment past 64 bits", "POST", f"{MLFLOW}/runs/search", 404,
        "RESOURCE_DOES_NOT_EXIST", "Could not find experiment",
        {"json": {"experiment_ids": [BIG]}}),
    Bad("run tags that are not objects", "POST", f"{MLFLOW}/runs/create", 400,
        "INVALID_PARAMETER_VALUE", "tags.0", {"json": {"experiment_id": "0", "tags": [1]}}),
    Bad("run tags that are not a list", "POST", f"{MLFLOW}/runs/create", 400,
        "INVALID_PARAMETER_VALUE", "tags", {"json": {"tags": {"a": "b"}}}),
    Bad("run tag without a key", "POST", f"{MLFLOW}/runs/create", 400,
        "INVALID_PARAMETER_VALUE", "tags.0.key", {"json": {"tags": [{"value": "v"}]}}),
    Bad("experiment tags that are not objects", "POST", f"{MLFLOW}/experiments/create", 400,
        "INVALID_PARAMETER_VALUE", "tags.0", {"json": {"name": "x", "tags": ["a"]}}),
    Bad("model version past 64 bits", "GET",
        f"{MLFLOW}/model-versions/get?name=churn-gbm&version={BIG}", 400,
        "INVALID_PARAMETER_VALUE", f'Invalid value "{BIG}" for parameter \'version\''),
    Bad("model version past 32 bits", "GET",
        f"{MLFLOW}/model-versions/get?name=churn-gbm&version={2**40}", 404,
        "RESOURCE_DOES_NOT_EXIST", f"has no version {2**40}"),
    # found by schemathesis (tests/api/test_api_schemathesis.py)
    Bad("search filter not a string", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "'filter'", {"json": {"filter": []}}),
    Bad("search order_by not a list", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "'order_by'", {"json": {"order_by": 1}}),
    Bad("search experiment_ids not a list", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "'experiment_ids'", {"json": {"experiment_ids": 5}}),
    Bad("page token not a string", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "invalid page token", {"json": {"page_token": 5}}),
    Bad("page token past 64 bits", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "invalid page token",
        {"json": {"experiment_ids": ["1"], "page_token": BIG_TOKEN}}),
    Bad("max_results a superscript digit", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "'max_results'", {"json": {"max_results": "\u00b2"}}),
    Bad("max_results with two minus signs", "POST", f"{MLFLOW}/runs/search", 400,
        "INVALID_PARAMETER_VALUE", "'max_results'", {"json": {"max_results": "--5"}}),
    Bad("run name not a string", "POST", f"{MLFLOW}/runs/create", 400,
        "INVALID_PARAMETER_VALUE", "'run_name'", {"json": {"run_name": 5}}),
    Bad("logged model tags not a list", "POST", f"{MLFLOW}/logged-models", 400,
        "INVALID_PARAMETER_VALUE", "'tags'",
        {"json": {"experiment_id": "1", "name": "m", "tags": 3}}),
    Bad("outputs that are not objects", "POST", f"{MLFLOW}/runs/outputs", 400,
        "INVALID_PARAMETER_VALUE", "'models[0]'", {"json": {"run_id": "x", "models": [1]}}),
]
# fmt: on
GROUPS = {
    "unknown keys and ids": UNKNOWN,
    "metric values that are not numbers": VALUES,
    "duplicates": DUPLICATES,
    "sizes": SIZES,
    "malformed bodies, wrong types, unknown fields": BODIES,
    "artifact paths": ARTIFACT_PATHS,
    "numbers no column holds, nulls for required fields": NUMBERS_AND_NULLS,
    "the MLflow door": MLFLOW_DOOR,
}
CASES = [case for group in GROUPS.values() for case in group]


class _AnyText(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


def fill(text: str, seed: Seed) -> str:
    return (
        text.replace("{run}", seed.run_id)
        .replace("{other}", seed.other_run_id)
        .replace("{hyp}", seed.hypothesis)
    )


def send(api: TestClient, bad: Bad, seed: Seed) -> Any:
    kwargs = dict(bad.kwargs)
    if "json" in kwargs:
        kwargs["json"] = json.loads(fill(json.dumps(kwargs["json"]), seed))
    return api.request(bad.method, fill(bad.path, seed), **kwargs)


@pytest.fixture
def finished_other(api: TestClient, seed: Seed) -> Seed:
    assert api.post(f"/api/v1/runs/{seed.other_run_id}/finish", json={}).status_code == 200
    return seed


@pytest.mark.parametrize("group", list(GROUPS))
def test_bad_input_is_refused_and_changes_nothing(
    api: TestClient, finished_other: Seed, snapshot: SnapshotFn, group: str
) -> None:
    # One seeded database per group, not per case: PostgreSQL set-up dominates the time.
    problems = []
    for bad in GROUPS[group]:
        before = snapshot()
        response = send(api, bad, finished_other)
        try:
            body = response.json()
        except ValueError:
            body = None
        if bad.path.startswith(MLFLOW):
            expected: dict[str, Any] = {"error_code": bad.code, "message": ANY_TEXT}
        else:
            expected = {"error": {"code": bad.code, "message": ANY_TEXT}}
        if response.status_code != bad.status or body != expected:
            problems.append(f"{bad.name}: {response.status_code} {response.text[:300]}")
        elif bad.message not in (body.get("message") or body["error"]["message"]):
            problems.append(f"{bad.name}: message {body!r}")
        if snapshot() != before:
            problems.append(f"{bad.name}: stored data changed")
    assert not problems, "\n".join(problems)


def test_the_snapshot_sees_changes(api: TestClient, seed: Seed, snapshot: SnapshotFn) -> None:
    """The no-change checks above would be worthless if the snapshot missed writes."""
    before = snapshot()
    assert (
        api.post(f"/api/v1/runs/{seed.run_id}/tags", json={"tags": {"x": "1"}}).status_code == 204
    )
    after_tag = snapshot()
    assert after_tag != before
    assert api.put(f"/api/v1/runs/{seed.run_id}/artifacts/b.txt", content=b"b").status_code == 201
    assert snapshot()["files"] != after_tag["files"]


# --- NaN and Infinity ------------------------------------------------------------------


NON_FINITE = [
    ('"NaN"', "NaN"),
    ('"Infinity"', "Infinity"),
    ('"-Infinity"', "-Infinity"),
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("-Infinity", "-Infinity"),
    ("1e999", "Infinity"),
]


def test_non_finite_metric_values_are_stored_and_returned_as_strings(
    api: TestClient, seed: Seed
) -> None:
    for i, (literal, expected) in enumerate(NON_FINITE):
        body = f'{{"metrics": [{{"key": "m{i}", "value": {literal}}}]}}'
        response = api.post(f"/api/v1/runs/{seed.run_id}/metrics", **raw(body))
        assert response.status_code == 200, (literal, response.text)
        history = api.get(
            f"/api/v1/runs/{seed.run_id}/metric-history", params={"key": f"m{i}"}
        ).json()
        assert [p["value"] for p in history] == [expected], literal
    latest = api.get(f"/api/v1/runs/{seed.run_id}").json()["metrics"]
    assert {f"m{i}": latest[f"m{i}"]["value"] for i in range(len(NON_FINITE))} == {
        f"m{i}": expected for i, (_literal, expected) in enumerate(NON_FINITE)
    }


def test_finite_values_round_trip_exactly(api: TestClient, seed: Seed) -> None:
    values = [0.0, -0.0, 1e-300, 1.7976931348623157e308, -2.5, 0.1 + 0.2, 123456789012345]
    points = [{"key": "x", "value": v, "step": i} for i, v in enumerate(values)]
    response = api.post(f"/api/v1/runs/{seed.run_id}/metrics", json={"metrics": points})
    assert response.json() == {"count": len(values)}
    history = api.get(f"/api/v1/runs/{seed.run_id}/metric-history", params={"key": "x"}).json()
    assert [p["value"] for p in history] == [float(v) for v in values]


# --- artifact size limit ---------------------------------------------------------------

LIMIT = 1024


@pytest.fixture
def small_app(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[FastAPI]:
    settings = Settings(
        home=tmp_path / "small",
        database_url=database_url,
        max_artifact_bytes=LIMIT,
        verdict_refresh_seconds=0,
    )
    application = create_app(settings, clock=clock, sweep=False)
    yield application
    application.state.loopwise.db.dispose()


def test_artifact_over_the_size_limit_is_413(small_app: FastAPI) -> None:
    with TestClient(small_app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        assert http.post("/api/v1/projects", json={"key": "CH", "name": "c"}).status_code == 201
        run_id = http.post("/api/v1/projects/CH/runs", json={}).json()["id"]
        url = f"/api/v1/runs/{run_id}/artifacts/blob.bin"

        at_limit = http.put(url, content=b"a" * LIMIT)
        assert at_limit.status_code == 201, at_limit.text
        before = take_snapshot(small_app)

        declared = http.put(url, content=b"b" * (LIMIT + 1))
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "too_large"
        assert "limit is 1024" in declared.json()["error"]["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
            for _ in range(5):
                yield b"c" * 300

        streamed = http.put(url, content=chunks())
        assert streamed.status_code == 413
        assert streamed.json()["error"] == {
            "code": "too_large",
            "message": "artifact exceeds the 1024-byte limit",
        }
        # The stored file is the old one and no partial upload is left behind.
        assert take_snapshot(small_app) == before
        assert http.get(url).content == b"a" * LIMIT


# --- the error tree maps to HTTP once ------------------------------------------------------


def all_error_classes() -> list[type[errors.LoopwiseError]]:
    found: list[type[errors.LoopwiseError]] = [errors.LoopwiseError]
    for cls in found:
        found.extend(cls.__subclasses__())
    return found


def test_error_tree_is_what_we_expect() -> None:
    names = {cls.__name__ for cls in all_error_classes()}
    assert {
        "InvalidInput",
        "TooLarge",
        "NotFound",
        "Conflict",
        "Unauthenticated",
        "PermissionDenied",
        "DatabaseOutOfDate",
    } <= names


def test_every_error_class_maps_to_its_status_and_code(app: FastAPI, api: TestClient) -> None:
    classes = {cls.__name__: cls for cls in all_error_classes()}

    def boom(name: str) -> None:
        raise classes[name](f"{name} happened")

    app.add_api_route("/api/v1/test-raise/{name}", boom)
    from loopwise import Client

    sdk = Client(http=api)
    for name, cls in classes.items():
        response = api.get(f"/api/v1/test-raise/{name}")
        assert response.status_code == cls.http_status, name
        assert response.json() == {"error": {"code": cls.code, "message": f"{name} happened"}}
        # The SDK raises the same class again on the caller's side.
        with pytest.raises(cls, match=f"^{name} happened$") as caught:
            sdk._request("GET", f"/api/v1/test-raise/{name}")
        assert type(caught.value) is cls


def test_unexpected_errors_are_a_plain_500_without_details(app: FastAPI, api: TestClient) -> None:
    def boom() -> None:
        raise ZeroDivisionError("secret internals")

    app.add_api_route("/api/v1/test-crash", boom)
    response = api.get("/api/v1/test-crash")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "internal error; see the server log"}
    }
