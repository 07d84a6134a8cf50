"""`loopwise import mlflow`: copy a real MLflow store (file store and SQLite store)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fastapi import FastAPI

from loopwise.mlflow_compat.importer import SOURCE_TAG, import_store
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
