"""`loopwise import mlflow`: copy a real MLflow store (file store and SQLite store)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loopwise.core.errors import InvalidInput
from loopwise.mlflow_compat.importer import (
    RUN_ID_TAG,
    SOURCE_TAG,
    Route,
    import_store,
    route,
)
from loopwise.projects.schemas import ProjectCreate
from loopwise.projects.service import create_project
from loopwise.tracking import service as tracking
from mlflow import MlflowClient

pytestmark = pytest.mark.filterwarnings("ignore")


def make_store(uri: str, tmp: Path) -> dict[str, str]:
    """Two experiments, three runs (one failed, one deleted), history, artifacts."""
    client = MlflowClient(tracking_uri=uri)
    a = client.create_experiment("baseline", artifact_location=(tmp / "art-a").as_uri())
    b = client.create_experiment("tuning", artifact_location=(tmp / "art-b").as_uri())
    ids = {}
    run = client.create_run(a, run_name="lr")
    client.log_param(run.info.run_id, "C", "1.0")
    for step in range(300):
        client.log_metric(
            run.info.run_id, "loss", 1 / (step + 1), step=step, timestamp=1_700_000_000_000 + step
        )
    client.log_metric(run.info.run_id, "odd", float("nan"))
    note = tmp / "note.txt"
    note.write_text("from mlflow")
    client.log_artifact(run.info.run_id, str(note), "docs")
    client.set_terminated(run.info.run_id)
    ids["lr"] = run.info.run_id
    failed = client.create_run(b, run_name="bad")
    client.set_terminated(failed.info.run_id, status="FAILED")
    ids["bad"] = failed.info.run_id
    gone = client.create_run(b, run_name="gone")
    client.set_terminated(gone.info.run_id)
    client.delete_run(gone.info.run_id)
    ids["gone"] = gone.info.run_id
    return ids


@pytest.mark.parametrize("store", ["file", "sqlite"])
def test_import_copies_everything_once(
    app: FastAPI, tmp_path: Path, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # to write the legacy store
    uri = (
        (tmp_path / "mlruns").as_uri() if store == "file" else f"sqlite:///{tmp_path / 'mlflow.db'}"
    )
    ids = make_store(uri, tmp_path)
    state = app.state.loopwise
    actor = state.ensure_local_actor()
    progress: list[int] = []

    def context():  # type: ignore[no-untyped-def]
        return state.context(actor, write=True)

    report = import_store(context, uri, progress=lambda done, total, _: progress.append(done))
    assert report.runs == 3 and report.skipped == 0 and report.problems == []
    assert report.metric_points == 301 and report.artifacts == 1
    assert progress[-1] == 3
    with state.context(actor, write=False) as ctx:
        runs = {r.name: r for r in tracking.list_runs(ctx, "MLFLOW", limit=100)}
        assert set(runs) == {"lr", "bad"}  # the deleted run is imported but hidden
        lr = tracking.get_run(ctx, runs["lr"].id)
        assert lr.params == {"C": "1.0"} and lr.status.value == "finished"
        assert lr.tags[SOURCE_TAG].endswith(ids["lr"])
        history = tracking.metric_history(ctx, lr.id, "loss")
        assert [p.step for p in history] == list(range(300))
        assert history[-1].value == pytest.approx(1 / 300)
        assert math.isnan(lr.metrics["odd"].value)
        assert runs["bad"].status.value == "failed"
    again = import_store(context, uri)
    assert again.runs == 0 and again.skipped == 3


def test_import_command_reports_and_is_idempotent(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from loopwise.cli import app as cli_app

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    make_store(uri, tmp_path)
    argv = ["--home", str(tmp_path / "home"), "--database-url", database_url]
    first = CliRunner().invoke(cli_app, [*argv, "import", "mlflow", uri, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["runs"] == 3
    again = CliRunner().invoke(cli_app, [*argv, "import", "mlflow", uri, "--json"])
    assert json.loads(again.stdout)["skipped"] == 3
    missing = CliRunner().invoke(cli_app, [*argv, "import", "mlflow", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "neither a folder" in missing.output


# --- steering: where each experiment goes, and the kept run ids ------------------------


def _where(found: Route) -> tuple[str | None, str]:
    return found.project, found.name


def test_route_rules_in_order() -> None:
    have = {"AUDIT1", "CHURN"}.__contains__
    none: dict[str, str] = {}
    # mapping file first (exact name, then '*'), then --project, then the name rule
    mapping = {"AUDIT3/x": "churn", "scratch": "CHURN/kept", "*": "AUDIT1"}
    assert _where(route("AUDIT3/x", mapping=mapping, project="AUDIT1", exists=have)) == (
        "CHURN",
        "AUDIT3/x",
    )
    assert _where(route("scratch", mapping=mapping, project=None, exists=have)) == ("CHURN", "kept")
    assert _where(route("other", mapping=mapping, project="CHURN", exists=have)) == (
        "AUDIT1",
        "other",
    )
    assert _where(route("AUDIT1/a", mapping=none, project="audit1", exists=have)) == ("AUDIT1", "a")
    assert _where(route("CHURN/a", mapping=none, project="AUDIT1", exists=have)) == (
        "AUDIT1",
        "CHURN/a",
    )
    assert _where(route("CHURN/b", mapping=none, project=None, exists=have)) == ("CHURN", "b")
    assert _where(route("churn", mapping=none, project=None, exists=have)) == ("CHURN", "Default")
    assert _where(route("baseline", mapping=none, project=None, exists=have)) == (
        "MLFLOW",
        "baseline",
    )
    # never silently: an unknown KEY/ prefix or a missing target project places nothing
    lost = route("AUDIT3/x", mapping=none, project=None, exists=have)
    assert lost.project is None and "no project 'AUDIT3'" in lost.why
    missing = route("baseline", mapping=none, project="NOPE", exists=have)
    assert missing.project is None and "NOPE" in missing.why


@pytest.mark.sqlite_only  # routing and ids are decided above the store
def test_import_refuses_unplaced_then_steers_and_keeps_run_ids(
    app: FastAPI, api: TestClient, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("AUDIT3/x")
    original = client.create_run(exp, run_name="nb").info.run_id
    client.log_param(original, "C", "1")
    client.set_terminated(original)
    state = app.state.loopwise
    actor = state.ensure_local_actor()

    def context():  # type: ignore[no-untyped-def]
        return state.context(actor, write=True)

    with pytest.raises(InvalidInput, match="AUDIT3/x") as refused:
        import_store(context, uri)
    assert "no project 'AUDIT3'" in refused.value.message
    with state.context(actor, write=False) as ctx:
        assert not tracking.run_exists(ctx, f"run_{original}")  # nothing written
    with state.context(actor, write=True) as ctx:
        create_project(ctx, ProjectCreate(key="TEAM", name="Team"))
    report = import_store(context, uri, project="TEAM")
    assert report.runs == 1 and report.routes[0]["project"] == "TEAM"
    with state.context(actor, write=False) as ctx:
        (run,) = tracking.list_runs(ctx, "TEAM", experiment="AUDIT3/x")
        assert run.id == f"run_{original}" and run.tags[RUN_ID_TAG] == original
    # a notebook's link by the MLflow run id resolves against Loopwise
    got = api.get("/api/2.0/mlflow/runs/get", params={"run_id": original})
    assert got.status_code == 200 and got.json()["run"]["info"]["run_id"] == original
    # the same store under another spelling of its URI is still the same runs
    again = import_store(context, f"sqlite:///{tmp_path}/./mlflow.db", project="TEAM")
    assert again.runs == 0 and again.skipped == 1


@pytest.mark.sqlite_only  # a door test: the CLI's options and printout
def test_import_command_dry_run_and_mapping_file(tmp_path: Path, database_url: str) -> None:
    from typer.testing import CliRunner

    from loopwise.cli import app as cli_app

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    client.create_run(client.create_experiment("AUDIT3/x"))
    client.create_run(client.create_experiment("scratch"))
    argv = ["--home", str(tmp_path / "home"), "--database-url", database_url]
    runner = CliRunner()
    dry = runner.invoke(cli_app, [*argv, "import", "mlflow", uri, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "'AUDIT3/x' -> NOT IMPORTED" in dry.output
    assert "'scratch' -> MLFLOW / scratch (1 runs" in dry.output
    refused = runner.invoke(cli_app, [*argv, "import", "mlflow", uri])
    assert refused.exit_code == 2 and "no target project" in refused.output
    assert "Traceback" not in refused.output
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"AUDIT3/x": "MLFLOW/audit3-x"}))
    done = runner.invoke(cli_app, [*argv, "import", "mlflow", uri, "--map", str(mapping)])
    assert done.exit_code == 0, done.output
    assert "'AUDIT3/x' -> MLFLOW / audit3-x (1 runs; mapping file)" in done.output
    assert "imported 2 runs" in done.output
    mapping.write_text("[1]")
    bad = runner.invoke(cli_app, [*argv, "import", "mlflow", uri, "--map", str(mapping)])
    assert bad.exit_code == 2 and "must be a JSON object" in bad.output
