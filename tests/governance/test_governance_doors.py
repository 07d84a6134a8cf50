"""What only the HTTP doors do: status codes and bodies of the gate endpoints, the phase
change endpoint with an override, and the MLflow door's answer to a refused promotion."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from loopwise.core.clock import FrozenClock


def test_gates_and_phase_changes_over_http(api: TestClient, clock: FrozenClock) -> None:
    charter = {"success_metric": {"key": "recall", "threshold": 0.5}}
    assert (
        api.post(
            "/api/v1/projects", json={"key": "GOV", "name": "G", "charter": charter}
        ).status_code
        == 201
    )
    gates = api.get("/api/v1/projects/GOV/gates").json()
    intake = next(g for g in gates if g["template"] == "intake")
    assert intake["review"]["status"] == "pending" and intake["definition"]["clauses"]
    refused = api.post("/api/v1/projects/GOV/phase", json={"phase": "modeling"})
    assert refused.status_code == 409
    assert "Intake and risk classification" in refused.json()["error"]["message"]
    assert (
        api.post(
            "/api/v1/projects/GOV/phase", json={"phase": "modeling", "override": True}
        ).status_code
        == 400
    )  # an override needs a reason
    moved = api.post(
        "/api/v1/projects/GOV/phase",
        json={"phase": "modeling", "override": True, "reason": "pilot"},
    )
    assert moved.status_code == 200 and moved.json()["phase"] == "modeling"
    (change,) = api.get("/api/v1/projects/GOV/phases").json()
    assert change["override"] is True and change["reason"] == "pilot" and change["actor"] == "local"
    gid = intake["id"]
    assert api.post(f"/api/v1/gates/{gid}/attest", json={"item": "nope"}).status_code == 400
    assert api.post(f"/api/v1/gates/{gid}/attest", json={"item": "purpose"}).status_code == 200
    soon = clock.now() + timedelta(days=30)
    naive = {"target": "approval:1", "reason": "r", "expires_at": f"{soon:%Y-%m-%dT%H:%M:%S}"}
    assert api.post(f"/api/v1/gates/{gid}/waivers", json=naive).status_code == 400
    waived = api.post(f"/api/v1/gates/{gid}/waivers", json=naive | {"expires_at": soon.isoformat()})
    assert waived.status_code == 201, waived.text
    assert api.get("/api/v1/gates/gate_missing").status_code == 404
    assert {t["name"] for t in api.get("/api/v1/gate-templates").json()} >= {"ethics_checkpoint"}


def test_the_mlflow_door_answers_a_refused_promotion_with_an_mlflow_error(api: TestClient) -> None:
    mlflow = "/api/2.0/mlflow"
    assert api.post(f"{mlflow}/registered-models/create", json={"name": "m"}).status_code == 200
    created = api.post(f"{mlflow}/model-versions/create", json={"name": "m", "source": "s3://m"})
    assert created.status_code == 200, created.text
    refused = api.post(
        f"{mlflow}/model-versions/transition-stage",
        json={"name": "m", "version": "1", "stage": "Production"},
    )
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "cannot go to production yet" in body["message"]
    assert "source run finished" in body["message"] and "gates passed" in body["message"]
