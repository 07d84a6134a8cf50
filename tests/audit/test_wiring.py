"""The use cases that change state append audit entries (through the SDK and API, so the
doors are on the path), and the trail stays verifiable."""

from __future__ import annotations

import pandas as pd
from starlette.testclient import TestClient

from loopwise import Client


def _actions(api: TestClient, **query: str) -> list[str]:
    response = api.get("/api/v1/audit", params={"limit": 1000, **query})
    assert response.status_code == 200, response.text
    return [e["action"] for e in reversed(response.json())]


def test_state_changes_are_audited_and_the_chain_verifies(client: Client, api: TestClient) -> None:
    project = client.create_project("AUD", "Audited")
    client.update_project("AUD", phase="data_understanding")
    client.create_user("bob")
    client.set_member("AUD", "bob", "contributor")
    client.create_token("laptop")

    item = client.create_item("AUD", "A task")
    client.move_item(item.key, "in_progress")

    run = client.create_run("AUD")
    client.finish_run(run.id)
    client.create_model("AUD", "churn")
    client.create_model_version("churn", run_id=run.id)
    client.set_alias("churn", "champion", 1)
    client.move_model_version("churn", 1, "staging", reason="looks good")
    client.move_model_version("churn", 1, "production")

    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(40)], "x": range(40)})
    meta = {"personal_data": {"customer_id": ["direct_identifier"]}}
    train = client.register_dataset("AUD", "train", frame.iloc[:30], meta=meta).version
    test = client.register_dataset("AUD", "eval", frame.iloc[25:]).version
    client.check_leakage(train.id, test.id)

    actions = _actions(api)
    for expected in (
        "project.create",
        "member.role:admin",
        "project.phase:data_understanding",
        "user.create",
        "member.role:contributor",
        "token.issue:api",
        "item.status:in_progress",
        "model.alias:champion",
        "model_version.stage:staging",
        "deployment.start:staging",
        "deployment.end:replaced",
        "model_version.stage:production",
        "deployment.start:production",
        "dataset_version.register",
        "data.read_personal",
    ):
        assert expected in actions, (expected, actions)
    # only the version with personal-data flags audits its read
    reads = api.get("/api/v1/audit", params={"action": "data.read_personal"}).json()
    assert [e["object"] for e in reads] == [f"dataset_version:{train.id}"]
    assert reads[0]["reason"] == "leakage check"
    phase = api.get("/api/v1/audit", params={"object": f"project:{project.id}"}).json()
    assert [e["action"] for e in phase] == ["project.phase:data_understanding", "project.create"]

    verified = api.get("/api/v1/audit/verify").json()
    assert verified["ok"] is True and verified["checked"] == len(actions)
    assert verified["broken_kind"] is None


def test_a_refused_change_leaves_no_entry(client: Client, api: TestClient) -> None:
    client.create_project("AUD", "Audited")
    item = client.create_item("AUD", "A task")
    before = _actions(api)
    refused = api.post(f"/api/v1/items/{item.key}/status", json={"status": "nowhere"})
    assert refused.status_code == 400
    assert _actions(api) == before
