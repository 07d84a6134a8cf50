"""``loopwise model|deploy|incident|delivery|lineage`` against a real database (SQLite and
PostgreSQL); runs are logged through the SDK, as in real use."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli_testing import CliCall, assert_one_line_error

from loopwise import Client


def _run(client: Client, auc: float, *, finish: bool = True) -> str:
    run = client.create_run("REG", name=f"auc-{auc}")
    client.log_metrics(run.id, [{"key": "auc", "value": auc, "step": 0}])
    if finish:
        client.finish_run(run.id, "finished")
    return run.id


@pytest.fixture
def model(cli: CliCall) -> str:
    cli.ok("project", "create", "REG", "Registry")
    created = cli.json("model", "create", "REG", "churn-gbm", "--description", "GBM")
    assert created["name"] == "churn-gbm" and created["project_key"] == "REG"
    return "churn-gbm"


def test_versions_aliases_stages_rollback_history(cli: CliCall, client: Client, model: str) -> None:
    first = cli.json("model", "register", model, "--run", _run(client, 0.81), "--source", "m/")
    assert first["version"] == 1 and first["metrics"] == {"auc": 0.81} and first["stage"] == "none"
    cli.ok("model", "register", model, "--run", _run(client, 0.9))
    assert [v["version"] for v in cli.json("model", "versions", model)] == [2, 1]
    assert "auc=0.9" in cli.ok("model", "versions", model).stdout

    assert cli.json("model", "alias", model, "champion", "1")["aliases"] == ["champion"]
    assert "churn-gbm@champion is v2" in cli.ok("model", "alias", model, "champion", "2").stdout
    assert cli.json("model", "show", model)["aliases"] == {"champion": 2}
    assert "removed churn-gbm@champion" in cli.ok("model", "unalias", model, "champion").stdout
    assert_one_line_error(cli("model", "unalias", model, "champion"), 3, "champion")
    assert_one_line_error(cli("model", "alias", model, "9bad", "1"), 2, "alias")

    # The stage machine, canary shares, and production through the promotion checks.
    assert_one_line_error(cli("model", "stage", model, "1", "production"), 4, "can go to")
    assert_one_line_error(cli("model", "stage", model, "1", "canary"), 2, "traffic share")
    assert_one_line_error(
        cli("model", "stage", model, "1", "canary", "--traffic-share", "1.5"), 2, "traffic_share"
    )
    cli.ok("model", "stage", model, "1", "staging")
    prod = cli.json("model", "stage", model, "1", "production", "--reason", "first release")
    assert prod["stage"] == "production" and prod["traffic_share"] == 1.0
    canary = cli.json("model", "stage", model, "2", "canary", "--traffic-share", "0.1")
    assert canary["stage"] == "canary" and canary["traffic_share"] == 0.1
    assert (
        "canary 50%"
        in cli.ok("model", "stage", model, "2", "canary", "--traffic-share", "0.5").stdout
    )
    cli.ok("model", "stage", model, "2", "production")
    assert cli.json("model", "show", model)["production_version"] == 2

    assert cli("model", "rollback", model).exit_code == 2  # --reason is required
    assert_one_line_error(cli("model", "rollback", model, "--reason", "  "), 2, "reason")
    back = cli.json("model", "rollback", model, "--reason", "auc dropped in production")
    assert back["version"] == 1 and back["stage"] == "production"
    history = cli.json("model", "history", model)
    assert [(e["version"], e["to_stage"]) for e in history][-2:] == [
        (2, "archived"),
        (1, "production"),
    ]
    assert "rollback from v2: auc dropped in production" in history[-1]["reason"]
    human = cli.ok("model", "history", model).stdout
    assert "canary 10%" in human and "auc dropped" in human
    assert "churn-gbm" in cli.ok("model", "list").stdout
    assert [m["name"] for m in cli.json("model", "list", "--project", "REG")] == [model]

    assert_one_line_error(cli("model", "show", "ghost"), 3, "ghost")
    assert_one_line_error(cli("model", "versions", "ghost"), 3, "ghost")
    assert_one_line_error(cli("model", "stage", model, "9", "staging"), 3, "no version 9")
    assert cli("model", "stage", model, "1", "heaven").exit_code == 2  # not a stage
    assert_one_line_error(cli("model", "create", "REG", model), 4, "already exists")
    assert_one_line_error(cli("model", "create", "NOPE", "other"), 3, "not found")


def test_production_is_refused_while_a_promotion_check_fails(
    cli: CliCall, client: Client, model: str
) -> None:
    """The CLI asks the same promotion checks as the app: it is no way around them."""
    run_id = _run(client, 0.99, finish=False)
    cli.ok("model", "register", model, "--run", run_id)
    cli.ok("model", "stage", model, "1", "staging")
    checks = cli.json("model", "checks", model, "1")
    assert [(c["name"], c["passed"]) for c in checks] == [("source run finished", False)]
    assert "FAIL" in cli.ok("model", "checks", model, "1").stdout
    refused = cli("model", "stage", model, "1", "production")
    assert_one_line_error(refused, 4, "cannot go to production yet", "source run finished")
    assert cli.json("model", "show", model)["production_version"] is None
    client.finish_run(run_id, "finished")
    assert cli.json("model", "stage", model, "1", "production")["stage"] == "production"


def test_deployments_incidents_delivery_lineage(
    cli: CliCall, client: Client, model: str, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    pd.DataFrame({"x": range(50), "y": [i % 2 for i in range(50)]}).to_csv(data, index=False)
    dsv = cli.json("dataset", "register", "REG", "train", str(data))["version"]["id"]
    run_id = _run(client, 0.85)
    cli.ok("dataset", "use", run_id, dsv, "--role", "train")
    cli.ok("model", "register", model, "--run", run_id)
    cli.ok("model", "stage", model, "1", "staging")
    cli.ok("model", "stage", model, "1", "production")

    deployments = cli.json("deploy", "list", "REG")
    assert [(d["environment"], d["outcome"]) for d in deployments] == [
        ("production", "active"),
        ("staging", "replaced"),
    ]
    active = cli.json("deploy", "list", "REG", "--active")
    assert len(active) == 1
    dep = active[0]["id"]
    assert dep in cli.ok("deploy", "list", "REG").stdout

    incident = cli.json(
        "incident", "open", "REG", "Latency spike", "--severity", "sev2", "--deployment", dep
    )
    assert incident["severity"] == "sev2" and incident["deployment_id"] == dep
    assert "open" in cli.ok("incident", "list", "REG").stdout
    resolved = cli.json("incident", "resolve", incident["id"], "--notes", "scaled out")
    assert resolved["resolved_at"] is not None and "scaled out" in resolved["notes"]
    assert_one_line_error(cli("incident", "resolve", incident["id"]), 4, "already resolved")
    assert_one_line_error(cli("incident", "open", "REG", "x", "--severity", "sev9"), 2, "severity")
    assert_one_line_error(cli("incident", "open", "REG", "x", "--deployment", "dep_x"), 3, "dep_x")
    assert_one_line_error(cli("incident", "resolve", "inc_missing"), 3, "inc_missing")
    assert_one_line_error(cli("incident", "list", "NOPE"), 3, "not found")

    metrics = cli.json("delivery", "REG", "--days", "30")
    assert metrics["production_deployments"] == 1 and metrics["change_failure_rate"] == 0.0
    assert metrics["mean_time_to_recovery_hours"] is not None
    human = cli.ok("delivery", "REG").stdout
    assert "Production deployments" in human and "Change failure rate" in human
    assert cli("delivery", "REG", "--days", "3").exit_code == 2
    assert_one_line_error(cli("delivery", "NOPE"), 3, "not found")

    down = cli.json("lineage", "dataset", dsv)
    kinds = {n["kind"] for n in down["nodes"]}
    assert kinds == {"dataset_version", "run", "model_version", "deployment"}
    tree = cli.ok("lineage", "dataset", dsv).stdout
    assert tree.splitlines()[0].startswith("dataset version train v1")
    for text in ("used as train →", run_id, "produced →", "churn-gbm v1", "deployed as →", dep):
        assert text in tree
    assert "└──" in tree
    up = cli.ok("lineage", "deployment", dep).stdout
    assert up.splitlines()[0].startswith("deployment production 100% (active)")
    assert "← deployed as: model version churn-gbm v1" in up
    assert "← used as train: dataset version train v1" in up
    assert cli.json("lineage", "deployment", dep)["root"] == dep
    assert_one_line_error(cli("lineage", "dataset", "dsv_missing"), 3, "dsv_missing")
    assert_one_line_error(cli("lineage", "deployment", "dep_missing"), 3, "dep_missing")
