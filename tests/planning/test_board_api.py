"""Board, WIP limits, Definition of Done, cycles, forecasts, milestones, risks, RACI and
portfolio through the REST API, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from loopwise.core.clock import FrozenClock


def make_project(api: TestClient, key: str = "FLOW") -> None:
    assert api.post("/api/v1/projects", json={"key": key, "name": key.title()}).status_code == 201


def make_items(api: TestClient, n: int, key: str = "FLOW", kind: str = "task") -> list[str]:
    out = []
    for i in range(n):
        r = api.post(f"/api/v1/projects/{key}/items", json={"title": f"item {i}", "kind": kind})
        assert r.status_code == 201, r.text
        out.append(r.json()["key"])
    return out


def move(api: TestClient, item: str, status: str, reason: str = "") -> dict:
    r = api.post(f"/api/v1/items/{item}/status", json={"status": status, "reason": reason})
    assert r.status_code == 200, r.text
    return r.json()


def test_wip_limit_refuses_a_move_unless_a_reason_is_given(api: TestClient) -> None:
    make_project(api)
    a, b = make_items(api, 2)
    r = api.put("/api/v1/projects/FLOW/columns/in_progress/wip-limit", json={"wip_limit": 1})
    assert r.status_code == 200 and r.json()["wip_limit"] == 1
    move(api, a, "in_progress")
    refused = api.post(f"/api/v1/items/{b}/status", json={"status": "in_progress"})
    assert refused.status_code == 409
    assert "WIP limit" in refused.json()["error"]["message"]
    assert api.get(f"/api/v1/items/{b}").json()["status"] == "backlog"  # nothing changed
    move(api, b, "in_progress", reason="production incident needs it now")
    history = api.get(f"/api/v1/items/{b}/history").json()
    last = history[-1]
    assert last["to_value"] == "in_progress"
    assert "production incident" in last["note"] and "WIP limit" in last["note"]
    board = api.get("/api/v1/projects/FLOW/board").json()
    column = next(c for c in board["columns"] if c["column"]["key"] == "in_progress")
    assert column["count"] == 2 and column["over_limit"] is True


def test_definition_of_done_blocks_done_until_checked(api: TestClient) -> None:
    make_project(api)
    api.put(
        "/api/v1/projects/FLOW/done-rules/task",
        json={"checks": [{"text": "Reviewed"}, {"text": "Documented"}]},
    )
    (item,) = make_items(api, 1)
    r = api.post(f"/api/v1/items/{item}/status", json={"status": "done"})
    assert r.status_code == 409 and "Reviewed; Documented" in r.json()["error"]["message"]
    api.post(f"/api/v1/items/{item}/checks", json={"text": "Reviewed", "checked": True})
    api.post(f"/api/v1/items/{item}/checks", json={"text": "Documented", "checked": True})
    assert move(api, item, "done")["status"] == "done"
    checks = api.get(f"/api/v1/items/{item}/checks").json()
    assert all(c["checked"] and c["checked_by"] == "local" for c in checks)


def test_hypothesis_done_rule_is_computed_from_the_verdict(api: TestClient) -> None:
    make_project(api)
    h = api.post(
        "/api/v1/projects/FLOW/hypotheses",
        json={"title": "h", "statement": "s", "metric_key": "auc", "threshold": 0.9},
    ).json()["item"]["key"]
    r = api.post(f"/api/v1/items/{h}/checks", json={"text": "Verdict recorded", "checked": True})
    assert r.status_code == 400  # computed, not ticked
    run = api.post("/api/v1/projects/FLOW/runs", json={"hypotheses": [h]}).json()
    api.post(f"/api/v1/runs/{run['id']}/metrics", json={"metrics": [{"key": "auc", "value": 0.95}]})
    api.post(f"/api/v1/runs/{run['id']}/finish", json={"status": "finished"})
    checks = {c["text"]: c["checked"] for c in api.get(f"/api/v1/items/{h}/checks").json()}
    assert checks == {"Verdict recorded": True, "Journal note written": False}


def test_only_hypotheses_and_experiments_can_be_killed(api: TestClient) -> None:
    make_project(api)
    (task,) = make_items(api, 1)
    r = api.post(f"/api/v1/items/{task}/status", json={"status": "killed", "reason": "x"})
    assert r.status_code == 400
    (exp,) = make_items(api, 1, kind="experiment")
    assert move(api, exp, "killed")["status"] == "killed"


def test_custom_columns_and_unknown_column(api: TestClient) -> None:
    make_project(api)
    (item,) = make_items(api, 1)
    columns = [
        {"key": "backlog", "name": "Ideas", "category": "todo"},
        {"key": "labelling", "name": "Labelling", "category": "started", "wip_limit": 2},
        {"key": "done", "name": "Shipped", "category": "done"},
    ]
    assert api.put("/api/v1/projects/FLOW/columns", json={"columns": columns}).status_code == 200
    assert move(api, item, "labelling")["status"] == "labelling"
    r = api.post(f"/api/v1/items/{item}/status", json={"status": "review"})
    assert r.status_code == 400 and "no column" in r.json()["error"]["message"]
    stranded = api.put("/api/v1/projects/FLOW/columns", json={"columns": [columns[0], columns[2]]})
    assert stranded.status_code == 409 and "labelling (1)" in stranded.json()["error"]["message"]


def test_board_filters(api: TestClient) -> None:
    make_project(api)
    api.post("/api/v1/projects/FLOW/items", json={"title": "a", "labels": ["data"]})
    api.post("/api/v1/projects/FLOW/items", json={"title": "b", "kind": "bug"})

    def titles(**params: str) -> list[str]:
        board = api.get("/api/v1/projects/FLOW/board", params=params).json()
        return sorted(card["title"] for col in board["columns"] for card in col["cards"])

    assert titles() == ["a", "b"]
    assert titles(label="data") == ["a"]
    assert titles(kind="bug") == ["b"]
    assert api.get("/api/v1/projects/FLOW/board", params={"kind": "nope"}).status_code == 400


def deliver_one_per_day(api: TestClient, clock: FrozenClock, items: list[str], days: int) -> None:
    """A team that finishes exactly one item every day."""
    for item in items[:days]:
        move(api, item, "in_progress")
        clock.advance(timedelta(hours=20))
        move(api, item, "done")
        clock.advance(timedelta(hours=4))


def test_forecasts_are_deterministic_for_constant_throughput(
    api: TestClient, clock: FrozenClock
) -> None:
    make_project(api)
    items = make_items(api, 40)
    deliver_one_per_day(api, clock, items, 30)
    when = api.get("/api/v1/projects/FLOW/forecast/when", params={"items": 7, "window_days": 28})
    assert when.status_code == 200, when.text
    body = when.json()
    assert body["days"] == {"50": 7, "85": 7, "95": 7}
    today = clock.now().date()
    assert body["dates"]["85"] == str(today + timedelta(days=6))
    # all unfinished items: 10 left
    assert (
        api.get("/api/v1/projects/FLOW/forecast/when", params={"window_days": 28}).json()["days"][
            "50"
        ]
        == 10
    )
    how_many = api.get(
        "/api/v1/projects/FLOW/forecast/how-many",
        params={"by": str(today + timedelta(days=4)), "window_days": 28},
    ).json()
    assert how_many["counts"] == {"50": 5, "85": 5, "95": 5}
    flow = api.get("/api/v1/projects/FLOW/flow", params={"days": 30}).json()
    assert flow["cycle_time_percentiles"]["50"] == pytest.approx(20 / 24)
    assert sum(flow["daily_throughput"]) == 30


def test_killed_items_count_and_data_tasks_weigh_more(api: TestClient, clock: FrozenClock) -> None:
    make_project(api)
    experiments = make_items(api, 20, kind="experiment")
    for item in experiments:  # one killed experiment a day
        clock.advance(timedelta(days=1))
        move(api, item, "killed")
    clock.advance(timedelta(days=1))
    data = make_items(api, 2, kind="data_task")
    r = api.get(
        "/api/v1/projects/FLOW/forecast/when",
        params={"keys": ",".join(data), "window_days": 20, "data_multiplier": 2.0},
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope_low"] == 4.0 and r.json()["days"]["50"] == 4


def test_forecast_without_throughput_is_a_clear_400(api: TestClient) -> None:
    make_project(api)
    make_items(api, 3)
    r = api.get("/api/v1/projects/FLOW/forecast/when", params={"items": 3})
    assert r.status_code == 400 and "no item finished" in r.json()["error"]["message"]


def test_milestone_forecast_and_probability(api: TestClient, clock: FrozenClock) -> None:
    make_project(api)
    items = make_items(api, 40)
    deliver_one_per_day(api, clock, items, 30)
    today = clock.now().date()
    ms = api.post(
        "/api/v1/projects/FLOW/milestones",
        json={
            "name": "Pilot",
            "target_date": str(today + timedelta(days=2)),
            "items": items[28:35],
        },
    ).json()
    assert ms["remaining"] == 5
    fc = api.get(f"/api/v1/milestones/{ms['id']}/forecast", params={"window_days": 28}).json()
    assert fc["forecast"]["days"]["50"] == 5
    assert fc["probability"] == 0.0  # five items at one a day cannot land in three days
    late = api.post(
        "/api/v1/projects/FLOW/milestones",
        json={"name": "GA", "target_date": str(today + timedelta(days=30)), "items": items[30:]},
    ).json()
    fc = api.get(f"/api/v1/milestones/{late['id']}/forecast", params={"window_days": 28}).json()
    assert fc["probability"] == 1.0


def test_backtest_reports_windows(api: TestClient, clock: FrozenClock) -> None:
    make_project(api)
    items = make_items(api, 60)
    deliver_one_per_day(api, clock, items, 60)
    r = api.get(
        "/api/v1/projects/FLOW/forecast/backtest", params={"horizon_weeks": 1, "windows": 4}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["windows"]) == 4 and body["hit_rate"] == 1.0
    assert all(w["actual"] == 7 for w in body["windows"])


def test_cycle_report(api: TestClient, clock: FrozenClock) -> None:
    make_project(api)
    a, b, c = make_items(api, 3)
    cycle = api.post("/api/v1/projects/FLOW/cycles", json={"goal": "Baseline model"}).json()
    assert cycle["number"] == 1 and cycle["name"] == "Cycle 1"
    assert cycle["ends_on"] == str(
        clock.now().date() + timedelta(days=20)
    )  # three weeks by default
    api.post("/api/v1/projects/FLOW/cycles/1/items", json={"items": [a, b, c]})
    move(api, a, "done")
    clock.advance(timedelta(days=30))
    move(api, b, "done")  # after the cycle ended: carry-over
    report = api.get("/api/v1/projects/FLOW/cycles/1/report").json()
    assert report["planned"] == [a, b, c]
    assert report["done"] == [a]
    assert report["carry_over"] == [b, c]
    nxt = api.post("/api/v1/projects/FLOW/cycles", json={}).json()
    assert nxt["starts_on"] == str(clock.now().date() - timedelta(days=30) + timedelta(days=21))


def test_risk_register(api: TestClient, clock: FrozenClock) -> None:
    make_project(api)
    (item,) = make_items(api, 1)
    r = api.post(
        "/api/v1/projects/FLOW/risks",
        json={
            "title": "Labels are noisy",
            "category": "data",
            "likelihood": 4,
            "impact": 5,
            "owner": "ada",
            "next_review": str(clock.now().date() - timedelta(days=1)),
            "items": [item],
        },
    )
    assert r.status_code == 201, r.text
    risk = r.json()
    assert risk["key"] == "FLOW-R1" and risk["score"] == 20 and risk["level"] == "high"
    assert risk["review_overdue"] is True and risk["item_keys"] == [item]
    heat = api.get("/api/v1/projects/FLOW/risks/heat-map").json()
    assert heat["cells"][3][4] == ["FLOW-R1"]
    bad = api.post(
        "/api/v1/projects/FLOW/risks",
        json={"title": "x", "category": "data", "likelihood": 6, "impact": 1},
    )
    assert bad.status_code == 400
    closed = api.patch("/api/v1/risks/FLOW-R1", json={"status": "closed"}).json()
    assert closed["review_overdue"] is False
    assert api.get("/api/v1/projects/FLOW/risks/heat-map").json()["cells"][3][4] == []
    assert api.get("/api/v1/risks/FLOW-R9").status_code == 404


def test_raci_allows_one_accountable(api: TestClient) -> None:
    make_project(api)
    ok = api.put(
        "/api/v1/projects/FLOW/raci",
        json={"deliverable": "Modeling", "people": {"ada": "A", "bob": "R", "cy": "C"}},
    )
    assert ok.status_code == 200 and len(ok.json()) == 3
    two = api.put(
        "/api/v1/projects/FLOW/raci",
        json={"deliverable": "Modeling", "people": {"ada": "A", "bob": "A"}},
    )
    assert two.status_code == 400
    assert len(api.get("/api/v1/projects/FLOW/raci").json()) == 3


def test_portfolio_summarises_each_project(api: TestClient) -> None:
    make_project(api, "ONE")
    make_project(api, "TWO")
    api.post(
        "/api/v1/projects/ONE/risks",
        json={"title": "r", "category": "legal", "likelihood": 5, "impact": 5},
    )
    rows = {p["key"]: p for p in api.get("/api/v1/portfolio").json()}
    assert set(rows) == {"ONE", "TWO"}
    assert rows["ONE"]["open_high_risks"] == 1 and rows["TWO"]["open_high_risks"] == 0
    assert rows["ONE"]["success_rate"] is None


def test_backtest_on_a_brand_new_project_is_a_clear_400(api: TestClient) -> None:
    make_project(api)
    make_items(api, 2)  # created today: no complete day of history yet
    r = api.get("/api/v1/projects/FLOW/forecast/backtest")
    assert r.status_code == 400 and r.json()["error"]["message"]
