"""Monitoring in a real browser, local mode: a monitor created through the page form, a
drifted batch sent through the SDK, the alert on the monitor page and its retraining item
on the board, a webhook that receives the alert (signed), and three low-confidence
predictions reviewed with the keyboard shortcuts. Screenshots along the way.

Runs on SQLite only: the pages use the same services as the API, whose store tests cover
PostgreSQL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

import loopwise
from loopwise.monitoring import webhooks

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # the FrozenClock says 09:00 that day


def frame(
    rows: int, *, seed: int, shift: float = 0.0, hour: int = 0, ids: str = "p"
) -> pd.DataFrame:
    """Two numeric features and a plan; scores from a logistic model; 10 s apart."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1, rows)
    x2 = rng.normal(5 + shift, 2, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    score = 1 / (1 + np.exp(-(1.5 * x1 + 0.4 * (x2 - 5))))
    label = (rng.random(rows) < 1 / (1 + np.exp(-(1.5 * (x1 - shift))))).astype(int)
    start = START + timedelta(hours=hour)
    return pd.DataFrame(
        {
            "prediction_id": [f"{ids}{i}" for i in range(rows)],
            "timestamp": [(start + timedelta(seconds=10 * i)).isoformat() for i in range(rows)],
            "x1": x1,
            "x2": x2,
            "plan": plan,
            "score": score,
            "prediction": (score >= 0.5).astype(int),
            "label": label,
            "latency_ms": rng.gamma(2.0, 20.0, rows),
        }
    )


@pytest.fixture
def receiver() -> Iterator[dict[str, object]]:
    """A webhook receiver on 127.0.0.1 that answers 200 and keeps what it got."""
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(
                (dict(self.headers.items()), self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/alerts", "got": got}
    server.shutdown()
    server.server_close()


def test_drift_to_alert_to_board_and_review_with_keys(
    page: Page,
    live_server,  # noqa: ANN001
    app: FastAPI,
    receiver: dict[str, object],
    screenshot: Shot,
    external_requests: list[str],
) -> None:
    base = live_server.url
    with loopwise.Client(base) as client:
        client.create_project("MON", "Churn in production")
        reference = frame(2000, seed=1, ids="r").drop(
            columns=["prediction_id", "timestamp", "latency_ms"]
        )
        ref = client.register_dataset("MON", "churn-reference", reference).version

    # a webhook through its page: the secret is shown once
    page.goto(f"{base}/projects/MON/webhooks")
    form = page.locator("#new-webhook form")
    form.locator("[name=name]").fill("ml-alerts")
    form.locator("[name=url]").fill("file:///etc/passwd")
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Create webhook").click()
    assert nav.value is not None and nav.value.status == 400
    expect(page.locator(".errors")).to_contain_text("URL: use an http:// or https:// URL")
    form = page.locator("#new-webhook form")
    form.locator("[name=url]").fill(str(receiver["url"]))
    with page.expect_navigation():
        form.get_by_role("button", name="Create webhook").click()
    secret = page.locator("#secret-value").inner_text()
    assert secret.startswith("whsec_")
    screenshot(page, "monitoring-01-webhook-created")
    page.goto(f"{base}/projects/MON/webhooks")
    assert secret not in page.content()  # never shown again

    # the monitor through its page form: a bad value first, then a good one
    page.goto(f"{base}/projects/MON/monitors")
    screenshot(page, "monitoring-02-monitors-empty")
    form = page.locator("#new-monitor form")
    form.locator("[name=name]").fill("churn")
    form.locator("[name=reference_version_id]").select_option(ref.id)
    form.locator("[name=window]").select_option("hour")
    form.locator("[name=drift_share]").fill("lots")
    form.locator("[name=overrides]").fill("nope=ks")
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Create monitor").click()
    assert nav.value is not None and nav.value.status == 400
    expect(page.locator(".errors li")).to_have_count(1)
    expect(page.locator(".errors")).to_contain_text("Drift share: must be a number")
    screenshot(page, "monitoring-03-monitor-form-error")
    form = page.locator("#new-monitor form")
    form.locator("[name=drift_share]").fill("0.5")
    form.locator("[name=overrides]").fill("plan=psi:0.2")
    with page.expect_navigation():
        form.get_by_role("button", name="Create monitor").click()
    expect(page.locator("h1")).to_contain_text("churn")

    # review settings: low-confidence predictions go to the queue
    page.locator("#review-settings summary").click()
    settings = page.locator("#review-settings form")
    settings.locator("[name=enabled]").check()
    settings.locator("[name=confidence_below]").fill("0.6")
    with page.expect_navigation():
        settings.get_by_role("button", name="Save review settings").click()
    expect(page.locator("#review")).to_be_visible()

    # production data through the SDK: a normal hour, then two drifted hours
    with loopwise.Client(base) as client:
        client.log_batch("MON", "churn", frame(360, seed=2, ids="a"))
        client.log_batch("MON", "churn", frame(720, seed=3, ids="b", shift=2.0, hour=1))
        alerts = client.list_alerts("MON", state="open")
    assert {a.check.value for a in alerts} >= {"data_drift", "prediction_drift"}
    item_key = alerts[0].item_key

    page.goto(f"{base}/projects/MON/monitors/churn")
    cards = page.locator("#open-alerts .alert-card")
    expect(cards.first).to_be_visible()
    expect(page.locator("#open-alerts")).to_contain_text(str(item_key))
    expect(page.locator("svg.monitor-chart .threshold").first).to_be_attached()
    expect(page.locator("#latest-columns tbody tr")).to_have_count(5)  # 3 features, 2 predictions
    screenshot(page, "monitoring-04-monitor-alerts")

    page.goto(f"{base}/projects/MON/monitors")
    expect(page.locator('#monitors tr[data-monitor="churn"]')).to_contain_text("open")
    screenshot(page, "monitoring-04b-monitors-list")
    page.goto(f"{base}/projects/MON/monitors/churn")
    page.locator("#open-alerts a.item-link").first.click()
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"{base}/projects/MON/board")
    card = page.locator(f'.card[data-key="{item_key}"]')
    expect(card).to_be_visible()
    expect(card).to_contain_text("Retrain")
    screenshot(page, "monitoring-05-board-retraining")

    # the webhook's delivery, outside the request, signed
    state = app.state.loopwise
    assert webhooks.deliver_due(state) == len(alerts)
    got = receiver["got"]
    assert isinstance(got, list) and len(got) == len(alerts)
    headers, body = got[0]
    assert webhooks.verify(
        secret,
        headers["X-Loopwise-Timestamp"],
        body,
        headers["X-Loopwise-Signature"],
        now=state.clock.now().timestamp(),
    )
    assert json.loads(body)["loopwise"]["monitor"] == "churn"
    page.goto(f"{base}/projects/MON/webhooks")
    page.locator("#webhooks a").first.click()
    expect(page.locator("#deliveries .attempt").first).to_contain_text("HTTP 200")
    screenshot(page, "monitoring-06-webhook-deliveries")

    # three low-confidence predictions reviewed with the keys: 1, 0, s (skip), u (undo), 1
    page.goto(f"{base}/projects/MON/monitors/churn/review")
    expect(page.locator("#review-item")).to_be_visible()
    screenshot(page, "monitoring-07-review")
    waiting = int(page.locator("#queue-stats div").first.locator("strong").inner_text())
    assert waiting > 3
    seen = []
    for key in ("1", "0", "s", "u", "1"):
        current = page.locator("#review-item").get_attribute("data-item")
        seen.append(current)
        with page.expect_navigation():
            page.keyboard.press(key)
        expect(page.locator("#review-item")).to_be_visible()
    assert seen[4] == seen[2] != seen[3]  # the undo brought the skipped one back
    expect(page.locator("#queue-stats div").nth(1).locator("strong")).to_have_text("3")
    expect(page.locator("#reviewed tbody tr")).to_have_count(3)
    screenshot(page, "monitoring-08-reviewed")
    with loopwise.Client(base) as client:
        reviewed = client.review_items("MON", "churn", state="reviewed")
    assert len(reviewed) == 3 and all(i.label is not None for i in reviewed)
    assert external_requests == []


def correlated(rows: int, *, seed: int, rho: float, hour: int = 0) -> pd.DataFrame:
    """x1, x2 standard normal with correlation ``rho`` (marginals never change)."""
    rng = np.random.default_rng(seed)
    z1, z2 = rng.normal(size=(2, rows))
    start = START + timedelta(hours=hour)
    return pd.DataFrame(
        {
            "timestamp": [(start + timedelta(seconds=3 * i)).isoformat() for i in range(rows)],
            "x1": z1,
            "x2": rho * z1 + np.sqrt(1 - rho**2) * z2,
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
        }
    )


def test_multivariate_drift_through_the_form_is_charted_with_its_threshold(
    page: Page,
    live_server,  # noqa: ANN001
    screenshot: Shot,
) -> None:
    base = live_server.url
    with loopwise.Client(base) as client:
        client.create_project("MV", "Joint drift")
        reference = correlated(3000, seed=1, rho=0.8).drop(columns=["timestamp"])
        ref = client.register_dataset("MV", "reference", reference).version

    page.goto(f"{base}/projects/MV/monitors")
    form = page.locator("#new-monitor form")
    expect(form.locator("[name=check_multivariate_drift]")).not_to_be_checked()  # opt-in
    form.locator("[name=name]").fill("joint")
    form.locator("[name=reference_version_id]").select_option(ref.id)
    form.locator("[name=window]").select_option("hour")
    form.locator("[name=check_multivariate_drift]").check()
    form.locator("[name=threshold_multivariate_drift]").fill("0.6")
    with page.expect_navigation():
        form.get_by_role("button", name="Create monitor").click()
    expect(page.locator("h1")).to_contain_text("joint")

    # three hours as in the reference, then three whose correlation flipped
    with loopwise.Client(base) as client:
        for hour in range(6):
            rho = 0.8 if hour < 3 else -0.8
            client.log_batch("MV", "joint", correlated(1200, seed=10 + hour, rho=rho, hour=hour))
        alerts = client.list_alerts("MV", state="open")
    assert [a.check.value for a in alerts] == ["multivariate_drift"]
    assert alerts[0].threshold == pytest.approx(0.6) and alerts[0].windows_breached == 3

    page.goto(f"{base}/projects/MV/monitors/joint")
    chart = page.locator("svg.monitor-chart", has_text="Multivariate drift")
    expect(chart).to_have_count(1)
    expect(chart.locator(".threshold")).to_be_attached()
    expect(page.locator("#open-alerts")).to_contain_text("Multivariate drift")
    screenshot(page, "monitoring-09-multivariate-drift")
