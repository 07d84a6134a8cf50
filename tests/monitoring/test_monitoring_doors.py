"""What only each door does: the API's multipart upload and its 4xx answers, the CLI's
file commands and one-line errors, the SDK's DataFrame and profile-only batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from monitoring_support import KEY, START, frame, write_batch
from starlette.testclient import TestClient
from typer.testing import CliRunner

from loopwise import Client
from loopwise.cli import app as cli_app
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.settings import Settings
from loopwise.monitoring.models import Monitor


def test_api_uploads_a_batch_and_answers_bad_input_with_4xx(
    api: TestClient, monitor: Monitor, tmp_path: Path
) -> None:
    base = f"/api/v1/projects/{KEY}/monitors/churn"
    body = write_batch(frame(720, seed=40), tmp_path / "b.csv").read_bytes()
    first = api.post(f"{base}/batches", files={"file": ("b.csv", body)})
    assert first.status_code == 201, first.text
    assert first.json()["rows"] == 720 and first.json()["windows"] == 2
    again = api.post(f"{base}/batches", files={"file": ("b.csv", body)})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # checked on ingest (settings.monitor_check_on_ingest): the results are there
    windows = api.get(f"{base}/results").json()
    assert [w["window_start"] for w in windows] == ["2026-01-05T00:00:00Z", "2026-01-05T01:00:00Z"]
    assert {c["kind"] for c in windows[0]["checks"]} >= {"data_drift", "latency"}
    assert api.get(f"{base}/results", params={"scope": "batch"}).json()[0]["rows"] == 720
    labels = {"labels": [{"prediction_id": "p0", "label": 1}]}
    assert api.post(f"{base}/labels", json=labels).json()["matched"] == 1
    for response, status, needle in [
        (api.post(f"{base}/batches", files={"file": ("b.txt", b"x")}), 400, "format"),
        (api.post(f"{base}/batches", data={"x": "1"}), 400, "file"),
        (api.post(f"{base}/batches", files={"file": ("b.csv", b"x1\nhigh\n")}), 400, "x1"),
        (
            api.post(
                f"/api/v1/projects/{KEY}/monitors/nope/batches", files={"file": ("b.csv", body)}
            ),
            404,
            "nope",
        ),
        (api.post(f"{base}/labels", json={"labels": []}), 400, "labels"),
        (api.post(f"{base}/profiles", json={"profile": {"rows": 1}}), 400, "profile"),
        (api.get(f"{base}/results", params={"scope": "month"}), 400, "scope"),
        (api.post(f"/api/v1/projects/{KEY}/monitors", json={"name": "x"}), 400, "reference"),
    ]:
        assert response.status_code == status, response.text
        assert needle in response.json()["error"]["message"], response.text


def test_cli_logs_files_and_fails_on_one_line(
    settings: Settings, database_url: str, monitor: Monitor, tmp_path: Path
) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})

    def cli(*args: str) -> object:
        argv = ["--home", str(settings.home), "--database-url", database_url, *args]
        return runner.invoke(cli_app, argv, prog_name="loopwise")

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # the CLI's clock
    df = frame(300, seed=41, start=now - timedelta(hours=3), labels=False)
    result = cli("monitor", "log", KEY, "churn", str(write_batch(df, tmp_path / "b.parquet")))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "300 rows" in result.stdout and "window(s) checked" in result.stdout  # type: ignore[attr-defined]
    labels = write_batch(frame(300, seed=41)[["prediction_id", "label"]], tmp_path / "l.csv")
    result = cli("monitor", "labels", KEY, "churn", str(labels))
    assert "300 of 300 labels joined" in result.stdout  # type: ignore[attr-defined]
    result = cli("monitor", "results", KEY, "churn", "--json")
    assert result.exit_code == 0 and '"labelled": ' in result.stdout  # type: ignore[attr-defined]
    bad = write_batch(df.assign(timestamp="soon"), tmp_path / "bad.csv")
    result = cli("monitor", "log", KEY, "churn", str(bad))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: timestamp: not ISO 8601")
    result = cli("worker", "--once")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]


def test_sdk_sends_dataframes_or_only_their_profile(
    client: Client, monitor: Monitor, tmp_path: Path
) -> None:
    df = frame(400, seed=42)
    batch = client.log_batch(KEY, "churn", df)
    assert batch.created and batch.predictions == 400
    profiled = client.log_batch(
        KEY,
        "churn",
        frame(400, seed=43, shift=3.0),
        profile_only=True,
        at=START + timedelta(days=1),
    )
    assert profiled.source == "profile" and profiled.predictions == 0 and profiled.rows == 400
    results = client.monitor_results(KEY, "churn")
    assert [r.window_start for r in results][-1] == START + timedelta(days=1)
    assert results[-1].data_drift and not results[0].data_drift
    assert client.log_labels(KEY, "churn", df[["prediction_id", "label"]]).matched == 400
    assert client.list_alerts(KEY, state="open")
    with pytest.raises(NotFound):
        client.get_monitor(KEY, "nope")
    with pytest.raises(InvalidInput):
        client.log_batch(KEY, "churn", pd.DataFrame({"other": [1]}))
