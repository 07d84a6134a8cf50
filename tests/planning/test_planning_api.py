"""What only the planning REST door does: query strings (board filters, forecast
questions), status codes and JSON bodies. The use cases behind it are tested directly in
test_board_and_flow.py and test_verdict_lifecycle.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from loopwise.core.clock import FrozenClock

pytestmark = pytest.mark.store


def make_project(api: TestClient, key: str = "FLOW") -> None:
    assert api.post("/api/v1/projects", json={"key": key, "name": key.title()}).status_code == 201


def make_items(api: TestClient, n: int, kind: str = "task") -> list[str]:
    out = []
    for i in range(n):
        r = api.post("/api/v1/projects/FLOW/items", json={"title": f"item {i}", "kind": kind})
        assert r.status_code == 201, r.text
        out.append(r.json()["key"])
    return out


def move(api: TestClient, item: str, status: str, reason: str = "") -> dict:
    r = api.post(f"/api/v1/items/{item}/status", json={"status": status, "reason": reason})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_board_over_http(api: TestClient) -> None:
    make_project(api)
    api.post("/api/v1/projects/FLOW/items", json={"title": "a", "labels": ["data"]})
    api.post("/api/v1/projects/FLOW/items", json={"title": "b", "kind": "bug"})

    def titles(**params: str) -> list[str]:
        board = api.get("/api/v1/projects/FLOW/board", params=params)
        assert board.status_code == 200, board.text
        return sorted(card["title"] for col in board.json()["columns"] for card in col["cards"])

    assert titles() == ["a", "b"]
    assert titles(label="data") == ["a"]
    assert titles(kind="bug") == ["b"]
    for bad in ({"kind": "nope"}, {"cycle": "first"}):
        refused = api.get("/api/v1/projects/FLOW/board", params=bad)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_input"

    columns = [
        {"key": "backlog", "name": "Ideas", "category": "todo", "wip_limit": None},
        {"key": "doing", "name": "Doing", "category": "started", "wip_limit": 1},
        {"key": "done", "name": "Shipped", "category": "done", "wip_limit": None},
    ]
    put = api.put("/api/v1/projects/FLOW/columns", json={"columns": columns})
    assert put.status_code == 200 and put.json() == columns
    assert api.get("/api/v1/projects/FLOW/columns").json() == columns
    limit = api.put("/api/v1/projects/FLOW/columns/doing/wip-limit", json={"wip_limit": 2})
    assert limit.json() == {**columns[1], "wip_limit": 2}
    a, b = (i["key"] for i in api.get("/api/v1/projects/FLOW/items").json())
    assert move(api, a, "doing")["status"] == "doing"
    move(api, b, "doing")
    (third,) = make_items(api, 1)
    refused = api.post(f"/api/v1/items/{third}/status", json={"status": "doing"})
    assert refused.status_code == 409 and "WIP limit" in refused.json()["error"]["message"]
    history = api.get(f"/api/v1/items/{b}/history").json()
    assert set(history[-1]) == {"at", "kind", "from_value", "to_value", "note", "actor"}
    assert (history[-1]["kind"], history[-1]["to_value"]) == ("status", "doing")


def test_forecast_questions_are_read_from_the_query(api: TestClient, clock: FrozenClock) -> None:
    make_project(api)
    items = make_items(api, 12)
    for item in items[:8]:  # one finished item a day
        move(api, item, "done")
        clock.advance(timedelta(days=1))
    today = clock.now().date()

    def get(path: str, **params: object) -> dict:
        r = api.get(f"/api/v1{path}", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    when = get("/projects/FLOW/forecast/when", items=3, window_days=7, seed=1)
    assert set(when["days"]) == {"50", "85", "95"} and when["scope_low"] == 3
    assert when["dates"]["50"] == str(today + timedelta(days=when["days"]["50"] - 1))
    ranged = get("/projects/FLOW/forecast/when", items=2, items_high=4, window_days=7)
    assert (ranged["scope_low"], ranged["scope_high"]) == (2, 4)
    keyed = get("/projects/FLOW/forecast/when", keys=f"{items[9]},{items[10]}", window_days=7)
    assert keyed["scope_low"] == 2
    weighted = get("/projects/FLOW/forecast/when", keys=items[9], data_multiplier=3, window_days=7)
    assert weighted["scope_low"] == 1  # a task: the multiplier weighs data tasks only
    how_many = get("/projects/FLOW/forecast/how-many", by=str(today + timedelta(days=6)))
    assert set(how_many["counts"]) == {"50", "85", "95"}
    assert get("/projects/FLOW/flow", days=30)["daily_throughput"]
    # Eight days of history are too few; the answer shows the horizon was read.
    backtest = api.get("/api/v1/projects/FLOW/forecast/backtest", params={"horizon_weeks": 1})
    assert backtest.status_code == 400 and "a 7-day horizon" in backtest.text
    milestone = api.post(
        "/api/v1/projects/FLOW/milestones",
        json={"name": "M", "target_date": str(today + timedelta(days=9)), "items": items[8:]},
    ).json()
    assert milestone["remaining"] == 4
    forecast = get(f"/milestones/{milestone['id']}/forecast", window_days=7, trials=500)
    assert forecast["forecast"]["trials"] == 500 and 0 <= forecast["probability"] <= 1
    for path, params in [
        ("/projects/FLOW/forecast/when", {"items_high": 5}),
        ("/projects/FLOW/forecast/when", {"window_days": 6}),
        ("/projects/FLOW/forecast/how-many", {}),
        ("/projects/FLOW/forecast/backtest", {"windows": 0}),
        ("/projects/FLOW/flow", {"days": 0}),
        (f"/milestones/{milestone['id']}/forecast", {"trials": 10}),
    ]:
        refused = api.get(f"/api/v1{path}", params=params)
        assert refused.status_code == 400, (path, params, refused.text)


def test_hypothesis_evidence_over_http(api: TestClient) -> None:
    make_project(api)
    make_project(api, "OTHER")
    h = api.post(
        "/api/v1/projects/FLOW/hypotheses",
        json={"title": "h", "statement": "s", "metric_key": "auc", "threshold": 0.9},
    )
    assert h.status_code == 201
    key = h.json()["item"]["key"]
    run = api.post("/api/v1/projects/FLOW/runs", json={"hypotheses": [key]}).json()["id"]
    api.post(f"/api/v1/runs/{run}/metrics", json={"metrics": [{"key": "auc", "value": 0.95}]})
    api.post(f"/api/v1/runs/{run}/finish", json={"status": "finished"})
    found = api.get(f"/api/v1/hypotheses/{key}").json()
    assert found["verdict"] == "supported" and found["verdict_run_id"] == run
    assert found["evidence"] == [
        {"run_id": run, "status": "finished", "end_time": found["evidence"][0]["end_time"],
         "value": 0.95, "run_name": found["evidence"][0]["run_name"]},
    ]  # fmt: skip
    unlinked = api.delete(f"/api/v1/hypotheses/{key}/runs/{run}")
    assert unlinked.status_code == 200 and unlinked.json()["verdict"] == "open"
    relinked = api.post(f"/api/v1/hypotheses/{key}/runs", json={"run_id": run})
    assert relinked.status_code == 200 and relinked.json()["verdict"] == "supported"
    elsewhere = api.post("/api/v1/projects/OTHER/runs", json={}).json()["id"]
    refused = api.post(f"/api/v1/hypotheses/{key}/runs", json={"run_id": elsewhere})
    assert refused.status_code == 400
    assert "belongs to project OTHER" in refused.json()["error"]["message"]
    verdicts = [
        (e["from_value"], e["to_value"])
        for e in api.get(f"/api/v1/items/{key}/history").json()
        if e["kind"] == "verdict"
    ]
    assert verdicts == [("open", "supported"), ("supported", "open"), ("open", "supported")]


def test_the_risk_heat_map_leaves_closed_risks_out(api: TestClient) -> None:
    make_project(api)
    body = {"title": "Labels are noisy", "category": "data", "likelihood": 4, "impact": 5}
    created = api.post("/api/v1/projects/FLOW/risks", json=body)
    assert created.status_code == 201 and created.json()["key"] == "FLOW-R1"
    heat = api.get("/api/v1/projects/FLOW/risks/heat-map").json()
    assert len(heat["cells"]) == 5 and heat["cells"][3][4] == ["FLOW-R1"]
    closed = api.patch("/api/v1/risks/FLOW-R1", json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert api.get("/api/v1/projects/FLOW/risks/heat-map").json()["cells"][3][4] == []
    listed = api.get("/api/v1/projects/FLOW/risks", params={"include_closed": "false"})
    assert listed.json() == []
    assert len(api.get("/api/v1/projects/FLOW/risks").json()) == 1
