"""Fixtures for the API tests: a seeded project and a snapshot of everything stored."""

from __future__ import annotations

from typing import Any

import pytest
from api_support import Seed, SnapshotFn, take_snapshot
from fastapi import FastAPI
from starlette.testclient import TestClient


@pytest.fixture
def snapshot(app: FastAPI) -> SnapshotFn:
    return lambda: take_snapshot(app)


@pytest.fixture
def seed(api: TestClient) -> Seed:
    """A project with a hypothesis, a run carrying a param, a tag, a metric and a file, a
    risk (CHURN-R1) and a registered model without versions (churn-gbm)."""

    def ok(response: Any) -> Any:
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    ok(api.post("/api/v1/projects", json={"key": "CHURN", "name": "Churn"}))
    hyp = ok(
        api.post(
            "/api/v1/projects/CHURN/hypotheses",
            json={"title": "GBM", "statement": "s", "metric_key": "auc", "threshold": 0.8},
        )
    )
    run = ok(
        api.post(
            "/api/v1/projects/CHURN/runs",
            json={"name": "first", "params": {"lr": "0.1"}, "tags": {"team": "a"}},
        )
    )
    ok(
        api.post(
            f"/api/v1/runs/{run['id']}/metrics", json={"metrics": [{"key": "auc", "value": 0.7}]}
        )
    )
    ok(api.put(f"/api/v1/runs/{run['id']}/artifacts/model/notes.txt", content=b"hello"))
    risk = {"title": "Labels drift", "category": "data", "likelihood": 2, "impact": 3}
    ok(api.post("/api/v1/projects/CHURN/risks", json=risk))  # CHURN-R1
    ok(api.post("/api/v1/projects/CHURN/models", json={"name": "churn-gbm"}))
    ok(api.post("/api/v1/projects", json={"key": "FRAUD", "name": "Fraud"}))
    other = ok(api.post("/api/v1/projects/FRAUD/runs", json={}))
    return Seed("CHURN", hyp["item"]["key"], run["id"], other["id"])
