"""``loopwise demo --no-serve`` seeds real work once, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from conftest import DemoCli
from loopwise import Client
from loopwise.demo import seed
from loopwise.demo.seed import PROJECT_KEY, RUNS


def _counts(cli: DemoCli) -> dict[str, int]:
    return {
        "projects": len(cli.json("project", "list")),
        "hypotheses": len(cli.json("hypothesis", "list", PROJECT_KEY)),
        "items": len(cli.json("item", "list", PROJECT_KEY)),
        "runs": len(cli.json("run", "list", PROJECT_KEY, "--limit", "1000")),
    }


def test_demo_seeds_once_and_a_second_run_adds_nothing(cli: DemoCli) -> None:
    first = cli("demo", "--no-serve")
    assert first.exit_code == 0, (first.output, first.exception)
    assert "added 4 hypotheses, 5 work items, 8 runs" in first.stderr
    after_first = _counts(cli)
    assert after_first == {"projects": 1, "hypotheses": 4, "items": 9, "runs": len(RUNS)}

    second = cli("demo", "--no-serve")
    assert second.exit_code == 0, (second.output, second.exception)
    assert "already seeded: nothing added" in second.stderr
    assert _counts(cli) == after_first


def test_demo_project_has_a_full_charter(cli: DemoCli) -> None:
    assert cli("demo", "--no-serve").exit_code == 0
    project = cli.json("project", "show", PROJECT_KEY)
    assert project["name"] == "Breast cancer screening"
    assert project["phase"] == "modeling"
    charter = project["charter"]
    assert charter["success_metric"] == {"key": "recall", "comparator": ">=", "threshold": 0.95}
    assert charter["business_kpi"]["baseline"] is not None
    assert charter["business_kpi"]["target"] is not None
    assert any(c["name"] == "p95 latency" for c in charter["constraints"])
    assert {d["permission"] for d in charter["data_sources"]} >= {"granted", "pending"}


def test_demo_verdicts_come_from_real_runs(cli: DemoCli) -> None:
    assert cli("demo", "--no-serve").exit_code == 0
    found = {h["item"]["title"]: h for h in cli.json("hypothesis", "list", PROJECT_KEY)}
    verdicts = {h["verdict"] for h in found.values()}
    assert verdicts == {"supported", "refuted", "open"}

    supported = found[seed.SUPPORTED_BY_GB]
    assert supported["verdict"] == "supported"
    run = cli.json("run", "show", supported["verdict_run_id"])
    assert run["status"] == "finished"
    assert run["name"] == "gboost-depth2-tuned-cutoff"
    assert run["metrics"]["recall"]["value"] >= 0.95
    assert set(run["metrics"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert run["params"]["decision_threshold"] != "0.5"  # chosen on the training split
    assert run["tags"]["positive_class"] == "malignant"
    curve = cli.json("run", "metrics", run["id"], "val_log_loss")
    assert [p["step"] for p in curve] == list(range(1, 201))
    assert curve[-1]["value"] < curve[0]["value"]

    killed = found[seed.FOREST_RECALL]
    assert killed["verdict"] == "refuted"
    assert killed["verdict_reason"].startswith("kill criterion met")
    assert killed["item"]["status"] == "killed"
    assert len(killed["evidence"]) == 2

    still_open = found[seed.FEW_FEATURES]
    assert still_open["verdict"] == "open"
    assert [e["run_name"] for e in still_open["evidence"]] == ["logreg-top10-features"]


def test_demo_runs_carry_artifacts(cli: DemoCli, client: Client) -> None:
    assert cli("demo", "--no-serve").exit_code == 0
    runs = {r["name"]: r for r in cli.json("run", "list", PROJECT_KEY)}
    run_id = runs["logreg-C1"]["id"]
    paths = {a.path for a in client.list_artifacts(run_id)}
    assert paths == {"classification_report.txt", "confusion_matrix.json"}
    matrix = json.loads(client.download_artifact(run_id, "confusion_matrix.json"))
    assert sum(map(sum, matrix["matrix"])) == matrix["hold_out_size"] == 143
    assert "malignant" in client.download_artifact(run_id, "classification_report.txt").decode()


def test_demo_completes_a_seed_that_crashed(
    cli: DemoCli, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first seed that got through three runs, then died while a fourth was running.
    with monkeypatch.context() as patch:
        patch.setattr(seed, "RUNS", RUNS[:3])
        assert cli("demo", "--no-serve").exit_code == 0
    stale = client.create_run(PROJECT_KEY, name=RUNS[4].run_name, experiment="Tree ensembles")

    result = cli("demo", "--no-serve")
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"added 0 hypotheses, 0 work items, {len(RUNS) - 3} runs" in result.stderr
    runs = cli.json("run", "list", PROJECT_KEY, "--limit", "1000")
    finished = sorted(r["name"] for r in runs if r["status"] == "finished")
    assert finished == sorted(spec.run_name for spec in RUNS)
    assert [r["status"] for r in runs if r["id"] == stale.id] == ["failed"]
    assert _counts(cli)["hypotheses"] == 4
    assert "already seeded" in cli("demo", "--no-serve").stderr


def test_demo_in_auth_mode_seeds_and_says_how_to_sign_in(
    cli: DemoCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPWISE_AUTH", "true")
    result = cli("demo", "--no-serve")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "auth is on" in result.stderr
    assert "loopwise serve" in result.stderr
    assert len(cli.json("hypothesis", "list", PROJECT_KEY)) == 4
