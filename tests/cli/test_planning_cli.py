"""``loopwise project|hypothesis|item`` against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli_testing import CliCall, assert_one_line_error

from loopwise import Client
from loopwise.core.clock import FrozenClock


def test_project_create_list_show_json(cli: CliCall) -> None:
    assert cli.json("project", "list") == []
    created = cli.json(
        "project",
        "create",
        "churn",
        "Customer churn",
        "--description",
        "Who leaves?",
        "--problem",
        "Too many customers leave [quietly].",
    )
    assert created["key"] == "CHURN"
    assert created["phase"] == "business_understanding"
    assert created["charter"]["problem"] == "Too many customers leave [quietly]."
    listed = cli.json("project", "list")
    assert [p["key"] for p in listed] == ["CHURN"]
    shown = cli.json("project", "show", "churn")
    assert shown == created


def test_project_human_output(cli: CliCall, tmp_path: Path) -> None:
    charter = tmp_path / "charter.json"
    charter.write_text(
        json.dumps(
            {
                "problem": "Flag churners early.",
                "business_kpi": {
                    "name": "Monthly churn",
                    "baseline": 3.1,
                    "target": 2.5,
                    "unit": "%",
                },
                "success_metric": {"key": "recall", "threshold": 0.8},
                "constraints": [{"name": "p95 latency", "value": "< 50 ms"}],
                "data_sources": [{"name": "CRM", "owner": "Sales ops", "permission": "granted"}],
            }
        )
    )
    cli.ok("project", "create", "CHURN", "Customer churn", "--charter", str(charter))
    listing = cli.ok("project", "list").stdout
    assert "CHURN" in listing and "Customer churn" in listing
    shown = cli.ok("project", "show", "CHURN").stdout
    for text in ("Monthly churn", "recall >= 0.8", "p95 latency", "Sales ops", "granted"):
        assert text in shown


def test_set_phase(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    assert cli.json("project", "set-phase", "CHURN", "modeling")["phase"] == "modeling"
    assert "Modeling" in cli.ok("project", "show", "CHURN").stdout
    result = cli("project", "set-phase", "CHURN", "dreaming")
    assert result.exit_code == 2  # usage error: not a phase


def test_unknown_project_is_one_line_exit_3(cli: CliCall) -> None:
    for args in (
        ("project", "show", "NOPE"),
        ("hypothesis", "list", "NOPE"),
        ("item", "list", "NOPE"),
        ("run", "list", "NOPE"),
        ("hypothesis", "show", "NOPE-1"),
    ):
        assert_one_line_error(cli(*args), 3, "not found")


def test_invalid_key_is_exit_2(cli: CliCall) -> None:
    result = cli("project", "create", "9 lives", "Cats")
    assert_one_line_error(result, 2, "invalid input", "key")
    assert cli.json("project", "list") == []


def test_duplicate_key_is_exit_4(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    assert_one_line_error(cli("project", "create", "churn", "Again"), 4, "CHURN", "taken")


def test_bad_charter_file_is_exit_2(cli: CliCall, tmp_path: Path) -> None:
    bad = tmp_path / "charter.json"
    bad.write_text("{not json")
    assert_one_line_error(cli("project", "create", "CHURN", "x", "--charter", str(bad)), 2)
    bad.write_text('{"success_metric": {"key": "recall", "threshold": "high"}}')
    assert_one_line_error(
        cli("project", "create", "CHURN", "x", "--charter", str(bad)), 2, "threshold"
    )


def _create_hypothesis(cli: CliCall, *extra: str) -> dict:
    return cli.json(
        "hypothesis",
        "create",
        "CHURN",
        "GBM beats the rules",
        "--statement",
        "Gradient boosting reaches recall >= 0.8 within two weeks.",
        "--metric",
        "recall",
        "--threshold",
        "0.8",
        "--time-box-days",
        "14",
        *extra,
    )


def test_hypothesis_create_list_show(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    created = _create_hypothesis(cli, "--kill-after-runs", "3", "--label", "modeling")
    assert created["item"]["key"] == "CHURN-1"
    assert created["item"]["kind"] == "hypothesis"
    assert created["item"]["labels"] == ["modeling"]
    assert created["metric_key"] == "recall"
    assert created["comparator"] == ">="
    assert created["threshold"] == 0.8
    assert created["verdict"] == "open"
    end = datetime.fromisoformat(created["time_box_end"])
    assert timedelta(days=13) < end - datetime.now(UTC) <= timedelta(days=14)
    listed = cli.json("hypothesis", "list", "CHURN")
    assert [h["item"]["key"] for h in listed] == ["CHURN-1"]
    human = cli.ok("hypothesis", "list", "CHURN").stdout
    assert "CHURN-1" in human and "recall >= 0.8" in human and "open" in human
    shown = cli.ok("hypothesis", "show", "churn-1").stdout
    assert "after 3 runs below 0.8" in shown


def test_hypothesis_bad_numbers(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    base = ["hypothesis", "create", "CHURN", "t", "--statement", "s", "--metric", "recall"]
    result = cli(*base, "--threshold", "high")
    assert result.exit_code == 2 and "Traceback" not in result.output  # usage error
    assert "threshold" in result.stderr
    assert_one_line_error(cli(*base, "--threshold", "nan"), 2, "threshold")
    result = cli(*base, "--threshold", "1", "--time-box-days", "1", "--time-box-end", "2030-01-01")
    assert result.exit_code == 2 and "not both" in result.stderr
    assert_one_line_error(
        cli(*base, "--threshold", "1", "--kill-threshold", "0.5"), 2, "kill_after_runs"
    )
    assert cli.json("hypothesis", "list", "CHURN") == []


def test_hypothesis_link_and_refresh(cli: CliCall, client: Client, clock: FrozenClock) -> None:
    """Runs logged through the SDK become evidence; a passed time-box is re-judged."""
    real_now = datetime.now(UTC)
    clock.current = real_now - timedelta(days=2)
    cli.ok("project", "create", "CHURN", "Customer churn")
    _create_hypothesis(cli)
    with client.start_run("CHURN", name="gbm") as run:
        run.log_metric("recall", 0.85)
    linked = cli.json("hypothesis", "link", "CHURN-1", run.id)
    assert linked["verdict"] == "supported"
    assert linked["verdict_run_id"] == run.id
    assert [e["run_id"] for e in linked["evidence"]] == [run.id]
    assert_one_line_error(cli("hypothesis", "link", "CHURN-1", "run_missing"), 3)

    # A hypothesis whose time-box passed between two sweeps.
    late = client.create_hypothesis(
        "CHURN",
        "Quick win",
        statement="s",
        metric="recall",
        threshold=0.99,
        time_box_end=real_now - timedelta(days=1),
    )
    assert late.verdict.value == "open"  # judged at the (earlier) frozen time
    assert cli.json("hypothesis", "refresh") == {"changed": 1}
    assert cli.json("hypothesis", "show", late.item.key)["verdict"] == "refuted"
    assert "0 verdicts changed" in cli.ok("hypothesis", "refresh").stdout


def test_items_create_move_history(cli: CliCall) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    item = cli.json(
        "item",
        "create",
        "CHURN",
        "Clean the CRM export",
        "--kind",
        "data_task",
        "--estimate",
        "2",
        "--label",
        "data",
    )
    assert item["key"] == "CHURN-1" and item["kind"] == "data_task"
    assert item["status"] == "backlog"
    moved = cli.json("item", "move", "CHURN-1", "in_progress", "--note", "started")
    assert moved["status"] == "in_progress"
    # Data tasks have a Definition of Done; moving past it needs a reason.
    assert_one_line_error(cli("item", "move", "CHURN-1", "done"), 4, "Definition of Done")
    cli.ok("item", "move", "CHURN-1", "done", "--reason", "no dataset registry yet")
    history = cli.json("item", "history", "CHURN-1")
    assert [(e["kind"], e["to_value"]) for e in history] == [
        ("created", "backlog"),
        ("status", "in_progress"),
        ("status", "done"),
    ]
    assert history[1]["note"] == "started"
    assert "no dataset registry yet" in history[2]["note"]
    assert cli.json("item", "show", "churn-1")["status"] == "done"
    assert history[1]["actor"] == "local"
    assert "in_progress" in cli.ok("item", "history", "CHURN-1").stdout
    assert [i["key"] for i in cli.json("item", "list", "CHURN", "--kind", "data_task")] == [
        "CHURN-1"
    ]
    assert cli.json("item", "list", "CHURN", "--kind", "bug") == []
    assert_one_line_error(cli("item", "move", "CHURN-1", "someday"), 2, "no column")
    assert_one_line_error(cli("item", "move", "CHURN-1", "Not A Key"), 2, "status")
    assert_one_line_error(cli("item", "move", "CHURN-1", "killed"), 2, "killed")
    assert_one_line_error(cli("item", "create", "CHURN", "x", "--kind", "hypothesis"), 2)
    assert_one_line_error(cli("item", "create", "CHURN", "x", "--assignee", "ghost"), 3)
