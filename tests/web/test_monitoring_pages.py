"""Monitoring pages over HTTP: the forms re-render with 400 and one line per problem
(never a 500), the webhook secret is on the creation's answer only, the review forms work
without JavaScript, the charts draw the threshold, the cycle page counts retraining."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.core.clock import FrozenClock
from loopwise.data import service as data
from loopwise.monitoring.charts import Series, time_chart
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate

KEY = "MON"
START = datetime(2026, 1, 5, tzinfo=UTC)


def _rows(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1, n)
    score = 1 / (1 + np.exp(-x1))
    return pd.DataFrame(
        {
            "prediction_id": [f"p{seed}-{i}" for i in range(n)],
            "timestamp": [(START + timedelta(seconds=10 * i)).isoformat() for i in range(n)],
            "x1": x1,
            "plan": rng.choice(["a", "b"], n),
            "score": score,
            "prediction": (score >= 0.5).astype(int),
        }
    )


@pytest.fixture
def reference(app: FastAPI, tmp_path: Path) -> str:
    state = app.state.loopwise
    path = tmp_path / "ref.parquet"
    _rows(500, 1).drop(columns=["prediction_id", "timestamp"]).to_parquet(path, index=False)
    with state.context(state.ensure_local_actor(), write=True) as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="Monitoring"))
        return data.register_path(ctx, KEY, "ref", path).version.id


def _form(reference: str, **fields: str) -> dict[str, str]:
    base = {
        "name": "churn",
        "target": "",
        "reference_version_id": reference,
        "window": "hour",
        "min_rows": "30",
        "drift_share": "0.5",
        "score_threshold": "0.5",
        "metric": "roc_auc",
        "check_data_drift": "on",
        "check_latency": "on",
    }
    return base | fields


def test_the_monitor_form_answers_400_with_one_line_per_problem(
    api: TestClient, reference: str
) -> None:
    page = api.get(f"/projects/{KEY}/monitors")
    assert page.status_code == 200 and "New monitor" in page.text
    for fields, lines in [
        (
            {"drift_share": "lots", "min_rows": "0"},
            ["Drift share: must be a number", "Minimum rows"],
        ),
        ({"reference_version_id": ""}, ["Reference dataset version: required"]),
        ({"overrides": "x1"}, ["Column overrides: line 1: use COLUMN=TEST"]),
        ({"overrides": "nope=ks"}, ["nope"]),
        ({"overrides": "plan=ks"}, ["plan"]),  # KS on a categorical column
        ({"threshold_latency": "-1"}, ["Checks"]),
        ({"target": "ghost:1"}, ["ghost"]),
        ({"window": "month"}, ["Window"]),
    ]:
        answer = api.post(f"/projects/{KEY}/monitors", data=_form(reference, **fields))
        assert answer.status_code == 400, (fields, answer.text[:300])
        errors = answer.text.split('class="errors"')[1].split("</ul>")[0]
        assert errors.count("<li>") == len(lines), (fields, errors)
        for line in lines:
            assert line in errors, (fields, errors)
    made = api.post(
        f"/projects/{KEY}/monitors",
        data=_form(reference, overrides="x1=psi:0.2"),
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"] == f"/projects/{KEY}/monitors/churn"
    again = api.post(f"/projects/{KEY}/monitors", data=_form(reference))
    assert again.status_code == 400 and "already has a monitor" in again.text
    monitor = api.get(f"/projects/{KEY}/monitors/churn")
    assert monitor.status_code == 200 and "No window has been checked yet" in monitor.text
    bad = api.post(
        f"/projects/{KEY}/monitors/churn/review-settings",
        data={"enabled": "on", "confidence_below": "2", "classes": "0, 1, x"},
    )
    assert bad.status_code == 400
    assert "Confidence below" in bad.text and "Classes" in bad.text
    assert api.get(f"/projects/{KEY}/monitors/nope").status_code == 404


def test_webhook_secret_once_and_review_without_javascript(
    api: TestClient, reference: str, tmp_path: Path
) -> None:
    assert api.post(f"/projects/{KEY}/monitors", data=_form(reference)).status_code == 200
    settings = {"enabled": "on", "confidence_below": "0.7", "classes": "0 1", "seed": "0"}
    saved = api.post(f"/projects/{KEY}/monitors/churn/review-settings", data=settings)
    assert saved.status_code == 200 and "review queue" in saved.text
    batch = tmp_path / "b.csv"
    _rows(300, 2, shift=1.5).to_csv(batch, index=False)
    with batch.open("rb") as handle:
        logged = api.post(
            f"/api/v1/projects/{KEY}/monitors/churn/batches", files={"file": ("b.csv", handle)}
        )
    assert logged.status_code == 201

    bad = api.post(f"/projects/{KEY}/webhooks", data={"name": "ops", "url": "javascript:x"})
    assert bad.status_code == 400 and "URL: use an http" in bad.text
    made = api.post(
        f"/projects/{KEY}/webhooks",
        data={"name": "ops", "url": "http://127.0.0.1:9/x", "alert_opened": "on"},
    )
    assert made.status_code == 201
    secret = made.text.split('id="secret-value">')[1].split("<")[0]
    assert secret.startswith("whsec_")
    assert secret not in api.get(f"/projects/{KEY}/webhooks").text

    page = api.get(f"/projects/{KEY}/monitors/churn/review")
    assert page.status_code == 200 and 'src="/static/review.js"' in page.text
    item = page.text.split('data-item="')[1].split('"')[0]
    answered = api.post(
        f"/projects/{KEY}/monitors/churn/review/{item}", data={"label": "1"}, follow_redirects=False
    )
    assert answered.status_code == 303
    for data_in, needle in [
        ({"label": "7"}, "one of 0, 1"),
        ({"label": "x"}, "Label"),
        ({}, "skip"),
    ]:
        nxt = api.get(f"/projects/{KEY}/monitors/churn/review").text.split('data-item="')[1]
        answer = api.post(
            f"/projects/{KEY}/monitors/churn/review/{nxt.split(chr(34))[0]}", data=data_in
        )
        assert answer.status_code == 400 and needle in answer.text, (data_in, answer.text[:200])
    assert (
        api.post(f"/projects/{KEY}/monitors/churn/review/99999", data={"label": "1"}).status_code
        == 400
    )
    assert "Recently reviewed" in api.get(f"/projects/{KEY}/monitors/churn/review").text
    exported = api.post(
        f"/projects/{KEY}/monitors/churn/review/export",
        data={"dataset": "fixes"},
        follow_redirects=False,
    )
    assert exported.status_code == 303 and exported.headers["location"].startswith(
        "/datasets/versions/"
    )
    assert (
        api.post(f"/projects/{KEY}/monitors/churn/review/undo", follow_redirects=False).status_code
        == 303
    )


def test_a_chart_draws_its_threshold_and_escapes_names() -> None:
    moments = [START + timedelta(hours=h) for h in range(4)]
    chart = time_chart(
        "<b>x</b>",
        [Series("value", list(zip(moments, [0.1, 0.2, 0.7, None], strict=True)))],
        [(m, 0.5) for m in moments],
        breached=[moments[2]],
        hourly=True,
    )
    assert chart.svg is not None and "<b>" not in chart.svg and "&lt;b&gt;" in chart.svg
    assert 'class="threshold"' in chart.svg and chart.svg.count('class="breach"') == 1
    assert chart.threshold == 0.5 and chart.breached == 1 and chart.last == 0.7
    empty = time_chart("nothing", [Series("value", [(moments[0], None)])])
    assert empty.svg is None


def test_the_cycle_page_counts_retraining_filed(
    app: FastAPI, api: TestClient, clock: FrozenClock
) -> None:
    from loopwise.planning.cycles import service as cycles
    from loopwise.planning.items import service as items
    from loopwise.planning.items.models import ItemKind
    from loopwise.planning.items.schemas import ItemCreate

    state = app.state.loopwise
    with state.context(state.ensure_local_actor(), write=True) as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="Monitoring"))
        cycle = cycles.create_cycle(ctx, KEY, goal="keep churn model healthy")
        item = items.create_item(
            ctx, KEY, ItemCreate(kind=ItemKind.RETRAINING, title="Retrain churn: data drift")
        )
    clock.advance(timedelta(hours=1))  # the report reads up to now
    page = api.get(f"/projects/{KEY}/cycles/{cycle.number}")
    assert page.status_code == 200
    counted = page.text.split('id="retraining-filed"')[1].split("</strong>")[0]
    assert counted.endswith(">1") and f'href="/items/{item.key}"' in page.text
