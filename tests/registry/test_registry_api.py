"""What only the registry REST door does: status codes, query strings (active
deployments, the delivery window, the aliases to compare) and JSON bodies. The use cases
behind it are tested directly in test_registry.py and test_evaluations.py."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

pytestmark = pytest.mark.store


def test_the_registry_over_http(api: TestClient) -> None:
    assert api.post("/api/v1/projects", json={"key": "REG", "name": "Registry"}).status_code == 201
    created = api.post("/api/v1/projects/REG/models", json={"name": "churn"})
    assert created.status_code == 201 and created.json()["name"] == "churn"
    assert api.post("/api/v1/projects/REG/models", json={"name": "churn"}).status_code == 409
    run = api.post("/api/v1/projects/REG/runs", json={}).json()["id"]
    api.post(f"/api/v1/runs/{run}/metrics", json={"metrics": [{"key": "auc", "value": "NaN"}]})
    api.post(f"/api/v1/runs/{run}/finish", json={})
    version = api.post("/api/v1/models/churn/versions", json={"run_id": run, "source": "m/"})
    assert version.status_code == 201
    assert version.json()["metrics"] == {"auc": "NaN"} and version.json()["stage"] == "none"

    alias = api.put("/api/v1/models/churn/aliases/champion", json={"version": 1})
    assert alias.status_code == 200 and alias.json()["aliases"] == ["champion"]
    assert api.get("/api/v1/models/churn/aliases/champion").json()["version"] == 1
    assert api.put("/api/v1/models/churn/aliases/9bad", json={"version": 1}).status_code == 400
    deleted = api.delete("/api/v1/models/churn/aliases/champion")
    assert deleted.status_code == 204 and deleted.content == b""
    assert api.get("/api/v1/models/churn/aliases/champion").status_code == 404

    for to in ("staging", "production"):
        moved = api.post("/api/v1/models/churn/versions/1/stage", json={"stage": to})
        assert moved.status_code == 200 and moved.json()["stage"] == to
    (check,) = api.get("/api/v1/models/churn/versions/1/checks").json()
    assert (check["name"], check["passed"]) == ("source run finished", True)
    assert set(check) == {"name", "passed", "detail"}
    active = api.get("/api/v1/projects/REG/deployments", params={"active": "true"}).json()
    assert [(d["version"], d["environment"]) for d in active] == [(1, "production")]
    assert len(api.get("/api/v1/projects/REG/deployments").json()) == 2  # staging ended

    incident = api.post("/api/v1/projects/REG/incidents", json={"title": "Slow"})
    assert incident.status_code == 201 and incident.json()["severity"] == "sev3"
    resolve = f"/api/v1/incidents/{incident.json()['id']}/resolve"
    assert api.post(resolve, json={}).status_code == 200
    assert api.post(resolve, json={}).status_code == 409
    delivery = api.get("/api/v1/projects/REG/delivery", params={"days": 7})
    assert delivery.status_code == 200 and delivery.json()["production_deployments"] == 1
    assert api.get("/api/v1/projects/REG/delivery", params={"days": 6}).status_code == 400


def test_evaluations_and_the_comparison_over_http(api: TestClient) -> None:
    assert api.post("/api/v1/projects", json={"key": "EVAL", "name": "Eval"}).status_code == 201
    api.post("/api/v1/projects/EVAL/models", json={"name": "m"})
    upload = api.post(
        "/api/v1/projects/EVAL/datasets/holdout/versions",
        files={"file": ("h.csv", b"x,y\n1,0\n2,1\n3,1\n4,0\n")},
    )
    holdout = upload.json()["version"]["id"]
    y = [0, 1, 1, 0]
    for v, (alias, pred) in enumerate([("a", [0, 1, 0, 0]), ("b", [0, 1, 1, 0])], start=1):
        assert api.post("/api/v1/models/m/versions", json={}).json()["version"] == v
        api.put(f"/api/v1/models/m/aliases/{alias}", json={"version": v})
        body = {"task": "classification", "y_true": y, "y_pred": pred, "model": "m",
                "version": v, "dataset_version_id": holdout, "n_boot": 0}  # fmt: skip
        recorded = api.post("/api/v1/projects/EVAL/evaluations", json=body)
        assert recorded.status_code == 201, recorded.text
        found = api.get(f"/api/v1/evaluations/{recorded.json()['id']}")
        assert found.json() == recorded.json()
    assert len(api.get("/api/v1/projects/EVAL/evaluations").json()) == 2
    compare = api.get("/api/v1/models/m/compare", params={"champion": "a", "challenger": "b"})
    assert compare.status_code == 200, compare.text
    rows = {r[0]: r[1:] for r in compare.json()["rows"]}
    assert rows["accuracy"] == [0.75, 1.0, 0.25]
    assert compare.json()["dataset_version_id"] == holdout
    # The default aliases (champion, challenger) do not exist here.
    assert api.get("/api/v1/models/m/compare").status_code == 404
