"""What only each door does for webhooks and the review queue: the API's status codes and
its never-again secret, the CLI's commands and one-line errors, the SDK's typed methods."""

from __future__ import annotations

from pathlib import Path

from monitoring_support import KEY, frame, write_batch
from starlette.testclient import TestClient
from typer.testing import CliRunner

from loopwise import Client
from loopwise.cli import app as cli_app
from loopwise.core.settings import Settings
from loopwise.monitoring.models import DeliveryState, Monitor

BASE = f"/api/v1/projects/{KEY}"


def _fill_queue(api: TestClient, tmp_path: Path) -> None:
    settings = {"confidence_below": 0.65, "reviews_per_item": 1}
    assert api.put(f"{BASE}/monitors/churn/review/settings", json=settings).status_code == 200
    body = write_batch(frame(360, seed=40), tmp_path / "b.csv").read_bytes()
    assert api.post(f"{BASE}/monitors/churn/batches", files={"file": ("b.csv", body)}).is_success


def test_api_webhooks_and_review(api: TestClient, monitor: Monitor, tmp_path: Path) -> None:
    made = api.post(f"{BASE}/webhooks", json={"name": "ops", "url": "https://example.com/h"})
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    listed = api.get(f"{BASE}/webhooks").json()
    assert "secret" not in listed[0] and listed[0]["secret_hint"].startswith("…")
    hook = listed[0]["id"]
    assert api.get(f"{BASE}/webhooks/{hook}/deliveries").json() == []
    _fill_queue(api, tmp_path)
    review = f"{BASE}/monitors/churn/review"
    item = api.get(f"{review}/next").json()
    answered = api.post(f"{review}/items/{item['id']}", json={"label": 1})
    assert answered.status_code == 200 and answered.json()["label"] == 1
    assert api.get(f"{review}/items", params={"state": "reviewed"}).json()[0]["id"] == item["id"]
    assert api.get(f"{review}/agreement").json() == {"items": 0, "observed": None, "kappa": None}
    assert api.post(f"{review}/export", json={}).status_code == 201
    assert api.post(f"{review}/export", json={}).status_code == 200  # the same rows
    assert api.post(f"{review}/undo").json()["id"] == item["id"]
    for response, status, needle in [
        (api.post(f"{BASE}/webhooks", json={"name": "x", "url": "ftp://h/x"}), 400, "http"),
        (api.post(f"{BASE}/webhooks", json={"name": "ops", "url": "http://h/x"}), 409, "ops"),
        (api.get(f"{BASE}/webhooks/whk_nope/deliveries"), 404, "whk_nope"),
        (api.post(f"{review}/items/{item['id']}", json={"label": 1, "skip": True}), 400, "label"),
        (api.post(f"{review}/items/999999", json={"label": 1}), 404, "999999"),
        (api.put(f"{review}/settings", json={"confidence_below": 2}), 400, "confidence"),
        (api.get(f"{review}/items", params={"state": "done"}), 400, "state"),
    ]:
        assert response.status_code == status, response.text
        assert needle in response.json()["error"]["message"], response.text


def test_cli_prints_the_secret_once_and_answers_items(
    settings: Settings, database_url: str, monitor: Monitor, api: TestClient, tmp_path: Path
) -> None:
    _fill_queue(api, tmp_path)
    runner = CliRunner(env={"COLUMNS": "200"})

    def cli(*args: str):  # noqa: ANN202
        argv = ["--home", str(settings.home), "--database-url", database_url, *args]
        return runner.invoke(cli_app, argv, prog_name="loopwise")

    made = cli("monitor", "webhook", "create", KEY, "ops", "http://127.0.0.1:9/h")
    assert made.exit_code == 0, made.output
    assert "shown this once" in made.stdout and "whsec_" in made.stdout
    listed = cli("monitor", "webhook", "list", KEY)
    assert "ops" in listed.stdout and "whsec_" not in listed.stdout
    queue = cli("monitor", "review", "list", KEY, "churn", "--json")
    first = queue.stdout.split('"id": ')[1].split(",")[0]
    done = cli("monitor", "review", "answer", KEY, "churn", first, "0")
    assert done.exit_code == 0 and f"item {first}" in done.stdout, done.output
    assert "Cohen's kappa" in cli("monitor", "review", "kappa", KEY, "churn").stdout
    bad = cli("monitor", "review", "answer", KEY, "churn", first, "0")
    assert bad.exit_code != 0 and "already reviewed" in bad.output
    assert "back in the queue" in cli("monitor", "review", "undo", KEY, "churn").output
    assert "0 attempt(s)" in cli("monitor", "webhook", "deliver").output  # nothing due


def test_sdk_webhooks_and_review(
    client: Client, monitor: Monitor, api: TestClient, tmp_path: Path
) -> None:
    made = client.create_webhook(KEY, "ops", "https://example.com/h", events=["alert_resolved"])
    assert made.webhook.events[0].value == "alert_resolved" and len(made.secret) > 16
    assert client.list_webhooks(KEY)[0].id == made.webhook.id
    assert client.webhook_deliveries(KEY, made.webhook.id) == []
    settings = client.set_review_settings(KEY, "churn", confidence_below=0.65, classes=[1, 0])
    assert settings.classes == (0, 1)
    client.log_batch(KEY, "churn", frame(360, seed=41))
    item = client.next_review_item(KEY, "churn")
    assert item is not None and item.confidence is not None and item.confidence < 0.65
    assert client.review(KEY, "churn", item.id, 1).votes[0].label == 1
    assert client.review_items(KEY, "churn", state="reviewed")[0].id == item.id
    assert client.review_agreement(KEY, "churn").items == 0
    version = client.export_reviews(KEY, "churn", "corrections")
    assert version.dataset == "corrections" and version.rows == 1
    assert client.undo_review(KEY, "churn") is not None
    assert DeliveryState.PENDING.value == "pending"
