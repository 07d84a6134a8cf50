"""``loopwise run`` over runs logged through the SDK."""

from __future__ import annotations

import math

from cli_testing import CliCall, assert_one_line_error

from loopwise import Client


def test_run_list_show_metrics(cli: CliCall, client: Client) -> None:
    cli.ok("project", "create", "CHURN", "Customer churn")
    with client.start_run(
        "CHURN", name="gbm", experiment="boosting", params={"depth": 3}, tags={"team": "a"}
    ) as run:
        for step, loss in enumerate([0.9, 0.5, float("nan"), 0.3]):
            run.log_metric("val_loss", loss, step=step)
        run.log_metric("auc", float("inf"))
        run.log_text("hello", "notes/readme.txt")
    with client.start_run("CHURN", name="rules", experiment="baseline"):
        pass

    runs = cli.json("run", "list", "CHURN")
    assert {r["name"] for r in runs} == {"gbm", "rules"}
    assert [r["name"] for r in cli.json("run", "list", "CHURN", "--experiment", "boosting")] == [
        "gbm"
    ]
    assert "gbm" in cli.ok("run", "list", "churn").stdout

    shown = cli.json("run", "show", run.id)
    assert shown["params"] == {"depth": "3"}
    assert shown["tags"]["team"] == "a"
    assert shown["metrics"]["auc"]["value"] == "Infinity"  # the API's rule for non-finite
    human = cli.ok("run", "show", run.id).stdout
    for text in ("gbm", "depth", "val_loss", "notes/", "∞"):
        assert text in human

    points = cli.json("run", "metrics", run.id, "val_loss")
    assert [p["step"] for p in points] == [0, 1, 2, 3]
    assert points[2]["value"] == "NaN"
    assert points[3]["value"] == 0.3
    assert not any(isinstance(p["value"], float) and math.isnan(p["value"]) for p in points)
    assert "NaN" in cli.ok("run", "metrics", run.id, "val_loss").stdout

    assert_one_line_error(cli("run", "show", "run_missing"), 3, "run_missing")
    assert_one_line_error(cli("run", "metrics", run.id, "nope"), 3, "nope")
    assert cli("run", "list", "CHURN", "--limit", "0").exit_code == 2
