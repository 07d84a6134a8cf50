"""Model registry: versions, aliases, the stage machine, promotion checks, canary,
rollback, deployments, incidents and delivery metrics — through the REST API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from loopwise.core.clock import FrozenClock


def finished_run(api: TestClient, auc: float = 0.9, *, finish: bool = True) -> str:
    run = api.post("/api/v1/projects/REG/runs", json={"name": f"auc-{auc}"}).json()
    api.post(f"/api/v1/runs/{run['id']}/metrics", json={"metrics": [{"key": "auc", "value": auc}]})
    if finish:
        api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "finished"})
    return str(run["id"])


@pytest.fixture
def model(api: TestClient) -> str:
    assert api.post("/api/v1/projects", json={"key": "REG", "name": "Registry"}).status_code == 201
    r = api.post("/api/v1/projects/REG/models", json={"name": "churn-model"})
    assert r.status_code == 201, r.text
    return "churn-model"


def new_version(api: TestClient, model: str, run_id: str) -> int:
    r = api.post(f"/api/v1/models/{model}/versions", json={"run_id": run_id, "source": "model/"})
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def stage(api: TestClient, model: str, v: int, to: str, **extra: object):  # type: ignore[no-untyped-def]
    return api.post(f"/api/v1/models/{model}/versions/{v}/stage", json={"stage": to, **extra})


def test_version_snapshots_run_metrics_and_aliases(api: TestClient, model: str) -> None:
    v = new_version(api, model, finished_run(api, 0.91))
    body = api.get(f"/api/v1/models/{model}/versions/{v}").json()
    assert body["metrics"] == {"auc": 0.91} and body["stage"] == "none"
    assert (
        api.put(f"/api/v1/models/{model}/aliases/champion", json={"version": v}).status_code == 200
    )
    assert api.get(f"/api/v1/models/{model}/aliases/champion").json()["version"] == v
    assert api.get(f"/api/v1/models/{model}").json()["aliases"] == {"champion": v}
    assert api.put(f"/api/v1/models/{model}/aliases/9bad", json={"version": v}).status_code == 400
    assert api.delete(f"/api/v1/models/{model}/aliases/champion").status_code == 204
    assert api.get(f"/api/v1/models/{model}/aliases/champion").status_code == 404
    dup = api.post("/api/v1/projects/REG/models", json={"name": model})
    assert dup.status_code == 409


def test_non_finite_metrics_in_a_snapshot_read_back(api: TestClient, model: str) -> None:
    # Found by schemathesis: stored as "NaN"/"Infinity" strings, they broke every read.
    run = api.post("/api/v1/projects/REG/runs", json={}).json()["id"]
    points = [{"key": "nan", "value": "NaN"}, {"key": "inf", "value": "-Infinity"}]
    api.post(f"/api/v1/runs/{run}/metrics", json={"metrics": [*points, {"key": "x", "value": 1}]})
    v = new_version(api, model, run)
    expected = {"nan": "NaN", "inf": "-Infinity", "x": 1.0}
    assert api.get(f"/api/v1/models/{model}/versions/{v}").json()["metrics"] == expected
    listed = api.get(f"/api/v1/models/{model}/versions")
    assert listed.status_code == 200 and listed.json()[0]["metrics"] == expected


def test_stage_machine_refuses_illegal_moves(api: TestClient, model: str) -> None:
    v = new_version(api, model, finished_run(api))
    r = stage(api, model, v, "production")
    assert r.status_code == 409 and "can go to" in r.json()["error"]["message"]
    assert stage(api, model, v, "canary").status_code == 400  # needs a share
    assert stage(api, model, v, "staging", traffic_share=0.5).status_code == 400
    assert stage(api, model, v, "canary", traffic_share=1.5).status_code == 400
    assert stage(api, model, v, "canary", traffic_share=0.1).json()["traffic_share"] == 0.1
    w = new_version(api, model, finished_run(api))
    assert stage(api, model, w, "canary", traffic_share=0.5).status_code == 409  # one canary


def test_promotion_is_refused_while_a_check_fails(api: TestClient, model: str) -> None:
    run = finished_run(api, finish=False)
    v = new_version(api, model, run)
    stage(api, model, v, "staging")
    refused = stage(api, model, v, "production")
    assert refused.status_code == 409
    assert "source run finished" in refused.json()["error"]["message"]
    checks = api.get(f"/api/v1/models/{model}/versions/{v}/checks").json()
    assert checks == [
        {"name": "source run finished", "passed": False, "detail": checks[0]["detail"]}
    ]
    api.post(f"/api/v1/runs/{run}/finish", json={"status": "finished"})
    assert stage(api, model, v, "production").json()["stage"] == "production"
    # a version with no source run fails the check (issue 16: nothing shows how it was made)
    bare = api.post(f"/api/v1/models/{model}/versions", json={"source": "s3://m/"}).json()
    stage(api, model, bare["version"], "staging")
    refused = stage(api, model, bare["version"], "production")
    assert refused.status_code == 409
    assert "source run finished: no source run recorded" in refused.json()["error"]["message"]


def test_canary_then_production_then_rollback(
    api: TestClient, model: str, clock: FrozenClock
) -> None:
    v1 = new_version(api, model, finished_run(api, 0.90))
    stage(api, model, v1, "staging")
    stage(api, model, v1, "production")
    v2 = new_version(api, model, finished_run(api, 0.93))
    for share in (0.01, 0.1, 0.5):
        assert stage(api, model, v2, "canary", traffic_share=share).json()["traffic_share"] == share
    clock.advance(timedelta(hours=2))
    assert stage(api, model, v2, "production").json()["stage"] == "production"
    assert api.get(f"/api/v1/models/{model}/versions/{v1}").json()["stage"] == "archived"
    active = api.get("/api/v1/projects/REG/deployments", params={"active": True}).json()
    assert [(d["version"], d["environment"], d["traffic_share"]) for d in active] == [
        (v2, "production", 1.0)
    ]
    assert api.post(f"/api/v1/models/{model}/rollback", json={"reason": " "}).status_code == 400
    back = api.post(f"/api/v1/models/{model}/rollback", json={"reason": "AUC fell in prod"})
    assert back.status_code == 200 and back.json()["version"] == v1
    assert api.get(f"/api/v1/models/{model}").json()["production_version"] == v1
    outcomes = {
        (d["version"], d["outcome"])
        for d in api.get("/api/v1/projects/REG/deployments").json()
        if d["traffic_share"] == 1.0
    }
    assert (v2, "rolled_back") in outcomes and (v1, "active") in outcomes
    history = api.get(f"/api/v1/models/{model}/history").json()
    assert history[-1]["to_stage"] == "production" and "AUC fell" in history[-1]["reason"]


def test_rollback_needs_an_earlier_version(api: TestClient, model: str) -> None:
    v = new_version(api, model, finished_run(api))
    stage(api, model, v, "staging")
    stage(api, model, v, "production")
    r = api.post(f"/api/v1/models/{model}/rollback", json={"reason": "bad"})
    assert r.status_code == 409 and "nothing to roll back" in r.json()["error"]["message"]


def test_delivery_metrics(api: TestClient, model: str, clock: FrozenClock) -> None:
    releases = []
    for _ in range(3):
        run = finished_run(api)
        clock.advance(timedelta(hours=10))  # run finished -> production: 10 hours
        v = new_version(api, model, run)
        stage(api, model, v, "staging")
        stage(api, model, v, "production")
        releases.append(v)
        clock.advance(timedelta(days=2))
    api.post(f"/api/v1/models/{model}/rollback", json={"reason": "regression"})
    incident = api.post(
        "/api/v1/projects/REG/incidents", json={"title": "Latency spike", "severity": "sev2"}
    ).json()
    clock.advance(timedelta(hours=3))
    assert api.post(f"/api/v1/incidents/{incident['id']}/resolve", json={}).status_code == 200
    assert api.post(f"/api/v1/incidents/{incident['id']}/resolve", json={}).status_code == 409
    metrics = api.get("/api/v1/projects/REG/delivery", params={"days": 28}).json()
    assert metrics["production_deployments"] == 3  # the rollback is not a release
    assert metrics["lead_time_hours_median"] == pytest.approx(10.0)
    assert metrics["change_failure_rate"] == pytest.approx(1 / 3)
    assert metrics["mean_time_to_recovery_hours"] == pytest.approx(3.0)
    assert sum(count for _, count in metrics["weekly_deployments"]) == 3
    bad = api.post("/api/v1/projects/REG/incidents", json={"title": "x", "severity": "sev9"})
    assert bad.status_code == 400


def test_unknown_model_and_version_are_404(api: TestClient, model: str) -> None:
    assert api.get("/api/v1/models/nope").status_code == 404
    assert api.get(f"/api/v1/models/{model}/versions/7").status_code == 404
    r = api.post(f"/api/v1/models/{model}/versions", json={"run_id": "run_missing"})
    assert r.status_code == 404
