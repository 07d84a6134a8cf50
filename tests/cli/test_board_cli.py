"""``loopwise board|item check|cycle|flow|forecast|milestone|risk|raci|portfolio`` against a
real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cli_testing import CliCall, assert_one_line_error, deliver_one_per_day
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import Conflict


def _project(cli: CliCall, tasks: int = 0) -> list[str]:
    cli.ok("project", "create", "CHURN", "Customer churn")
    return [cli.json("item", "create", "CHURN", f"task {i}")["key"] for i in range(tasks)]


def test_board_wip_limit_refuses_a_move_without_a_reason(cli: CliCall) -> None:
    a, b, _ = _project(cli, 3)
    column = cli.json("board", "wip", "CHURN", "in_progress", "1")
    assert column == {
        "key": "in_progress",
        "name": "In progress",
        "category": "started",
        "wip_limit": 1,
    }
    cli.ok("item", "move", a, "in_progress")
    refused = cli("item", "move", b, "in_progress")
    assert_one_line_error(refused, 4, "WIP limit (1 of 1)", "Give a reason")
    assert cli.json("item", "show", b)["status"] == "backlog"
    cli.ok("item", "move", b, "in_progress", "--reason", "production incident")
    assert "production incident" in cli.json("item", "history", b)[-1]["note"]

    board = cli.json("board", "CHURN")
    columns = {c["column"]["key"]: c for c in board["columns"]}
    assert columns["in_progress"]["count"] == 2 and columns["in_progress"]["over_limit"] is True
    assert [card["key"] for card in columns["backlog"]["cards"]] == ["CHURN-3"]
    human = cli.ok("board", "show", "churn").stdout
    assert "In progress (in_progress) · 2 items · WIP limit 1 · OVER LIMIT" in human
    assert "Backlog (backlog) · 1 item" in human and "task 2" in human
    assert "Ready (ready) · 0 items · empty" in human

    listed = cli.json("board", "columns", "CHURN")
    assert [c["key"] for c in listed][:3] == ["backlog", "ready", "in_progress"]
    assert "in_progress" in cli.ok("board", "columns", "CHURN").stdout
    assert cli.json("board", "wip", "CHURN", "in_progress", "none")["wip_limit"] is None
    assert "WIP limit removed" in cli.ok("board", "wip", "CHURN", "in_progress", "none").stdout
    assert_one_line_error(cli("board", "wip", "CHURN", "in_progress", "lots"), 2, "whole number")
    assert_one_line_error(cli("board", "wip", "CHURN", "in_progress", "0"), 2, "wip_limit")
    assert_one_line_error(cli("board", "wip", "CHURN", "nowhere", "2"), 2, "no column")


def test_board_filters_and_unknown_project(cli: CliCall) -> None:
    _project(cli)
    cli.ok("item", "create", "CHURN", "labelled", "--label", "data")
    cli.ok("item", "create", "CHURN", "a bug", "--kind", "bug")

    def titles(*args: str) -> list[str]:
        board = cli.json("board", "CHURN", *args)
        return sorted(card["title"] for col in board["columns"] for card in col["cards"])

    assert titles() == ["a bug", "labelled"]
    assert titles("--label", "data") == ["labelled"]
    assert titles("--kind", "bug") == ["a bug"]
    assert "showing 1" in cli.ok("board", "CHURN", "--kind", "bug").stdout
    assert cli("board", "CHURN", "--kind", "nope").exit_code == 2
    for args in (("board", "NOPE"), ("board", "columns", "NOPE"), ("cycle", "list", "NOPE")):
        assert_one_line_error(cli(*args), 3, "not found")
    assert_one_line_error(cli("board", "wip", "NOPE", "ready", "2"), 3, "not found")
    assert_one_line_error(cli("board", "CHURN", "--assignee", "ghost"), 3, "ghost")


def test_item_checks_and_the_definition_of_done(cli: CliCall) -> None:
    _project(cli)
    key = cli.json(
        "hypothesis",
        "create",
        "CHURN",
        "GBM",
        "--statement",
        "s",
        "--metric",
        "auc",
        "--threshold",
        "0.9",
    )["item"]["key"]
    checks = cli.json("item", "checks", key)
    assert [(c["text"], c["checked"], c["rule"]) for c in checks] == [
        ("Verdict recorded", False, "verdict_decided"),
        ("Journal note written", False, None),
    ]
    ticked = cli.json("item", "check", key, "Journal note written")
    assert ticked[1]["checked"] is True and ticked[1]["checked_by"] == "local"
    human = cli.ok("item", "checks", key).stdout
    assert "✓" in human and "Journal note written" in human and "computed" in human
    assert (
        cli.json("item", "check", key, "Journal note written", "--uncheck")[1]["checked"] is False
    )
    assert_one_line_error(cli("item", "check", key, "Verdict recorded"), 2, "computed")
    assert_one_line_error(cli("item", "check", key, "Nope"), 3, "Nope")
    assert_one_line_error(cli("item", "checks", "CHURN-99"), 3, "CHURN-99")
    task = cli.json("item", "create", "CHURN", "plain")["key"]
    assert "no Definition of Done" in cli.ok("item", "checks", task).stdout


def test_cycles_create_plan_report(cli: CliCall) -> None:
    a, b, c = _project(cli, 3)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=3)
    created = cli.json(
        "cycle", "create", "CHURN", "--goal", "Baseline", "--start", str(start), "--days", "14"
    )
    assert created["number"] == 1 and created["name"] == "Cycle 1"
    assert created["starts_on"] == str(start)
    assert created["ends_on"] == str(start + timedelta(days=13))
    planned = cli.json("cycle", "plan", "CHURN", "1", a, b, c)
    assert planned["item_keys"] == [a, b, c]
    assert cli.json("cycle", "unplan", "CHURN", "1", c)["item_keys"] == [a, b]
    cli.ok("item", "move", a, "done")
    report = cli.json("cycle", "report", "CHURN", "1")
    assert report["planned"] == [a, b] and report["done"] == [a]
    assert report["carry_over"] == [b] and report["killed"] == []
    human = cli.ok("cycle", "report", "CHURN", "1").stdout
    for text in ("Planned", "2: CHURN-1, CHURN-2", "Done", "Carry-over", "1: CHURN-2"):
        assert text in human
    assert "no hypothesis was resolved" in human
    listing = cli.ok("cycle", "list", "CHURN").stdout
    assert "Cycle 1" in listing and "Baseline" in listing

    assert_one_line_error(
        cli("cycle", "create", "CHURN", "--start", str(start + timedelta(days=2))), 4, "overlaps"
    )
    bad_date = cli("cycle", "create", "CHURN", "--start", "2026-02-30")
    assert bad_date.exit_code == 2 and "Traceback" not in bad_date.output
    assert "--start" in bad_date.stderr
    assert_one_line_error(cli("cycle", "create", "CHURN", "--days", "0"), 2, "days")
    assert_one_line_error(cli("cycle", "plan", "CHURN", "1", "CHURN-99"), 3, "CHURN-99")
    assert_one_line_error(cli("cycle", "report", "CHURN", "9"), 3, "no cycle 9")
    assert [c["number"] for c in cli.json("cycle", "list", "CHURN")] == [1]


def test_flow_forecasts_backtest_and_milestones(
    cli: CliCall, api: TestClient, clock: FrozenClock
) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    keys = deliver_one_per_day(api, clock, "CHURN", 40, 30)
    cli.ok("item", "move", keys[35], "in_progress")

    report = cli.json("flow", "CHURN", "--days", "28")
    assert report["cycle_time_percentiles"]["50"] == 20 / 24
    assert sum(report["daily_throughput"]) in (27, 28)  # the last one is today or yesterday
    assert [a["key"] for a in report["aging"]] == [keys[35]]
    human = cli.ok("flow", "CHURN").stdout
    for text in ("P85", "Cycle time", "Throughput per week", "Aging WIP", keys[35]):
        assert text in human

    when = cli.json("forecast", "when", "CHURN", "--items", "7", "--window-days", "28")
    assert when["days"] == {"50": 7, "85": 7, "95": 7}
    today = datetime.now(UTC).date()
    assert when["dates"]["85"] == str(today + timedelta(days=6))
    human = cli.ok("forecast", "when", "CHURN", "--items", "7", "--window-days", "28").stdout
    assert f"85% chance to be done by {today + timedelta(days=6)}" in human
    ranged = cli.json(
        "forecast", "when", "CHURN", "--items", "5", "--items-high", "9", "--seed", "3"
    )
    assert ranged["scope_low"] == 5 and ranged["scope_high"] == 9
    assert ranged == cli.json(
        "forecast", "when", "CHURN", "--items", "5", "--items-high", "9", "--seed", "3"
    )
    by_keys = cli.json(
        "forecast", "when", "CHURN", "--keys", f"{keys[31]},{keys[32]}", "--window-days", "28"
    )
    assert by_keys["scope_low"] == 2 and by_keys["days"]["50"] == 2
    remaining = cli.json("forecast", "when", "CHURN", "--window-days", "28", "--trials", "500")
    assert remaining["scope_low"] == 10 and remaining["trials"] == 500

    how_many = cli.json(
        "forecast",
        "how-many",
        "CHURN",
        "--by",
        str(today + timedelta(days=4)),
        "--window-days",
        "28",
    )
    assert how_many["counts"] == {"50": 5, "85": 5, "95": 5}
    human = cli.ok("forecast", "how-many", "CHURN", "--by", str(today + timedelta(days=4))).stdout
    assert "at least" in human

    # 30 days of history: two one-week windows after the 14 days a forecast needs.
    backtest = cli.json("forecast", "backtest", "CHURN", "--horizon-weeks", "1", "--windows", "5")
    assert [w["actual"] for w in backtest["windows"]] == [7, 7]
    human = cli.ok("forecast", "backtest", "CHURN", "--horizon-weeks", "1").stdout
    assert "actual inside the P85 interval in 2 of 2 windows" in human
    assert str(today - timedelta(days=7)) in human  # windows are shown by their dates

    # Bad input: usage errors (exit 2) and one-line service errors.
    assert cli("forecast", "when", "CHURN", "--items-high", "9").exit_code == 2
    assert cli("forecast", "when", "CHURN", "--items", "1", "--keys", keys[31]).exit_code == 2
    assert cli("forecast", "when", "CHURN", "--trials", "5").exit_code == 2
    bad = cli("forecast", "how-many", "CHURN", "--by", "tomorrow")
    assert bad.exit_code == 2 and "--by" in bad.stderr and "Traceback" not in bad.output
    assert_one_line_error(
        cli("forecast", "how-many", "CHURN", "--by", str(today - timedelta(days=1))), 2, "past"
    )
    assert_one_line_error(cli("forecast", "when", "CHURN", "--keys", "OTHER-1"), 2, "OTHER-1")
    assert_one_line_error(cli("forecast", "when", "NOPE", "--items", "3"), 3, "not found")

    ms = cli.json(
        "milestone",
        "create",
        "CHURN",
        "Pilot",
        "--target",
        str(today + timedelta(days=2)),
        "--item",
        keys[31],
        "--item",
        keys[32],
    )
    assert ms["remaining"] == 2 and ms["item_keys"] == [keys[31], keys[32]]
    ms = cli.json("milestone", "add", ms["id"], keys[33], keys[34], keys[35])
    assert ms["remaining"] == 5
    fc = cli.json("milestone", "forecast", ms["id"], "--window-days", "28")
    assert fc["forecast"]["days"]["50"] == 5 and fc["probability"] == 0.0
    human = cli.ok("milestone", "forecast", ms["id"], "--window-days", "28").stdout
    assert "Chance by target" in human and "0%" in human
    assert "Pilot" in cli.ok("milestone", "list", "CHURN").stdout
    assert cli.json("milestone", "show", ms["id"])["name"] == "Pilot"
    bad = cli("milestone", "create", "CHURN", "GA", "--target", "31/12/2026")
    assert bad.exit_code == 2 and "--target" in bad.stderr
    assert_one_line_error(cli("milestone", "show", "ms_missing"), 3, "ms_missing")

    summary = cli.json("portfolio", "--seed", "1")
    assert [p["key"] for p in summary] == ["CHURN"]
    assert summary[0]["next_milestone"] == "Pilot"
    assert "Pilot" in cli.ok("portfolio").stdout


def test_forecast_without_throughput_is_one_line(cli: CliCall) -> None:
    _project(cli, 2)
    assert_one_line_error(cli("forecast", "when", "CHURN", "--items", "3"), 2, "no item finished")
    assert "no finished items" in cli.ok("flow", "CHURN").stdout


def test_risks_and_heatmap(cli: CliCall) -> None:
    (item,) = _project(cli, 1)
    risk = cli.json(
        "risk",
        "create",
        "CHURN",
        "Labels are noisy",
        "--category",
        "data",
        "--likelihood",
        "4",
        "--impact",
        "5",
        "--owner",
        "ada",
        "--next-review",
        "2020-01-01",
        "--item",
        item,
    )
    assert risk["key"] == "CHURN-R1" and risk["score"] == 20 and risk["level"] == "high"
    assert risk["review_overdue"] is True and risk["item_keys"] == [item]
    cli.ok("risk", "create", "CHURN", "Drift", "--category", "technical", "--likelihood", "4",
           "--impact", "5")  # fmt: skip
    low = cli.json(
        "risk", "create", "CHURN", "Typo", "--category", "business", "--likelihood", "1",
        "--impact", "1",
    )  # fmt: skip
    updated = cli.json("risk", "update", "CHURN-R1", "--status", "mitigating", "--impact", "3")
    assert updated["status"] == "mitigating" and updated["score"] == 12
    assert updated["owner"] == "ada"  # untouched
    cli.ok("risk", "update", low["key"], "--status", "closed")
    assert [r["key"] for r in cli.json("risk", "list", "CHURN", "--open")] == [
        "CHURN-R2",
        "CHURN-R1",
    ]
    listing = cli.ok("risk", "list", "CHURN").stdout
    assert "Labels are noisy" in listing and "4x3=12" in listing
    assert "overdue" in cli.ok("risk", "show", "churn-r1").stdout

    heat = cli.json("risk", "heatmap", "CHURN")["cells"]
    assert heat[3][2] == ["CHURN-R1"] and heat[3][4] == ["CHURN-R2"]
    assert sum(len(cell) for row in heat for cell in row) == 2  # the closed one is left out
    grid = cli.ok("risk", "heatmap", "CHURN").stdout
    assert all(f"Impact {i}" in grid for i in range(1, 6))
    rows = {
        cells[1].strip(): [c.strip() for c in cells[2:7]]
        for cells in (line.split("│") for line in grid.splitlines())
        if len(cells) == 8 and cells[1].strip()
    }
    assert list(rows) == ["5", "4", "3", "2", "1"]  # likelihood 5 on top, a 5x5 grid
    assert rows["4"] == ["·", "·", "R1", "·", "R2"]
    assert "2 active risks" in grid

    linked = cli.json("risk", "link", "CHURN-R2", item)
    assert linked["item_keys"] == [item]
    base = ["risk", "create", "CHURN", "x", "--category", "data", "--impact", "2"]
    assert_one_line_error(cli(*base, "--likelihood", "6"), 2, "likelihood")
    assert cli(*base, "--likelihood", "2", "--next-review", "soon").exit_code == 2
    assert cli("risk", "update", "CHURN-R1").exit_code == 2  # nothing to change
    assert_one_line_error(cli("risk", "show", "CHURN-R9"), 3, "CHURN-R9")
    assert_one_line_error(cli("risk", "heatmap", "NOPE"), 3, "not found")


def test_raci(cli: CliCall) -> None:
    _project(cli)
    entries = cli.json("raci", "set", "CHURN", "Model card", "ada=A", "bob=r", "Cy Li=C")
    assert {(e["person"], e["role"]) for e in entries} == {
        ("ada", "A"),
        ("bob", "R"),
        ("Cy Li", "C"),
    }
    cli.ok("raci", "set", "CHURN", "Data contract", "bob=A")
    human = cli.ok("raci", "list", "CHURN").stdout
    assert "Model card" in human and "Accountable" in human and "Cy Li" in human
    assert len(cli.json("raci", "list", "CHURN")) == 4
    assert_one_line_error(cli("raci", "set", "CHURN", "Model card", "ada=A", "bob=A"), 2, "one")
    assert_one_line_error(cli("raci", "set", "CHURN", "Model card", "ada"), 2, "PERSON=ROLE")
    assert_one_line_error(cli("raci", "set", "CHURN", "Model card", "ada=X"), 2, "invalid input")
    assert "cleared" in cli.ok("raci", "set", "CHURN", "Model card").stdout
    assert [e["deliverable"] for e in cli.json("raci", "list", "CHURN")] == ["Data contract"]


def test_portfolio_without_projects(cli: CliCall) -> None:
    assert cli.json("portfolio") == []
    assert "no projects yet" in cli.ok("portfolio").stdout


def test_sdk_move_item_takes_a_reason(cli: CliCall, client: Client) -> None:
    """The SDK's move passes a WIP limit the same way as ``loopwise item move --reason``."""
    a, b = _project(cli, 2)
    cli.ok("board", "wip", "CHURN", "in_progress", "1")
    client.move_item(a, "in_progress")
    with pytest.raises(Conflict, match="WIP limit"):
        client.move_item(b, "in_progress")
    moved = client.move_item(b, "in_progress", "picked up", reason="the pilot is blocked on it")
    assert moved.status == "in_progress"
    # (The app runs on the frozen test clock, so look the move up rather than take the last.)
    (move,) = [e for e in cli.json("item", "history", b) if e["kind"] == "status"]
    assert "the pilot is blocked on it" in move["note"] and "picked up" in move["note"]
