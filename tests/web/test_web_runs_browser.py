"""Runs table, comparison and long-series charts in a real browser (SQLite only: the
pages use the same services as the API, whose store tests cover PostgreSQL)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import loopwise

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]

GBM = {"model": "gbm", "n_estimators": 400}
RUNS = [  # name, params, (start, end) of the validation AUC curve
    ("gbm-depth-8", {**GBM, "max_depth": 8, "learning_rate": 0.1}, (0.62, 0.91)),
    ("gbm-depth-4", {**GBM, "max_depth": 4, "learning_rate": 0.05}, (0.60, 0.87)),
    ("rf-500", {"model": "random_forest", "max_depth": 12, "n_estimators": 500}, (0.66, 0.84)),
    ("logreg-baseline", {"model": "logreg", "C": 1.0}, (0.55, 0.64)),
]


def log_runs(base: str) -> dict[str, str]:
    ids = {}
    with loopwise.Client(base) as client:
        client.create_project("CHURN", "Churn prediction")
        for n, (name, params, (start, end)) in enumerate(RUNS):
            with client.start_run("CHURN", name=name, params=params, experiment="tabular") as run:
                for epoch in range(60):
                    progress = 1 - math.exp(-epoch / (8 + 4 * n))
                    run.log_metric("val_auc", start + (end - start) * progress, step=epoch)
                    run.log_metric("train_loss", 0.7 * math.exp(-epoch / (10 + 3 * n)) + 0.05)
                run.log_metric("val_auc", end, step=60)
                run.log_metric("f1", end - 0.12)
            ids[name] = run.id
    return ids


def test_filter_tick_and_compare(
    live_server, page: Page, screenshot: Shot, external_requests: list[str]
) -> None:
    base = live_server.url
    ids = log_runs(base)
    page.goto(f"{base}/projects/CHURN/runs")
    expect(page.locator("#runs tbody tr")).to_have_count(4)
    button = page.get_by_role("button", name="Compare selected")
    expect(button).to_be_disabled()

    # A filter in the API's grammar, then a sort from a header.
    page.locator("#run-filter").fill("metrics.val_auc > 0.8 and params.model != 'logreg'")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    rows = page.locator("#runs tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#runs")).not_to_contain_text("logreg-baseline")
    with page.expect_navigation():
        page.locator("th[data-sort='metrics.val_auc'] a").click()
    expect(page.locator("th[data-sort='metrics.val_auc']")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(rows.first).to_contain_text("gbm-depth-8")
    expect(page.locator("#run-filter")).to_have_value(
        "metrics.val_auc > 0.8 and params.model != 'logreg'"
    )

    for name in ("gbm-depth-8", "gbm-depth-4"):
        page.get_by_label(f"Select {name} for comparison").check()
    expect(page.locator("#compare-status")).to_have_text("2 runs ticked.")
    page.get_by_label("Select rf-500 for comparison").check()
    expect(button).to_be_enabled()
    screenshot(page, "60-runs-filtered")

    with page.expect_navigation():
        button.click()
    assert re.search(r"/projects/CHURN/compare\?runs=run_\w+,run_\w+,run_\w+$", page.url)
    expect(page.locator("h1")).to_have_text("Compare 3 runs")
    auc = page.locator("figure[data-metric='val_auc']")
    expect(auc.locator("svg.chart g.run")).to_have_count(3)
    legend = auc.locator("ul.run-legend li")
    expect(legend).to_have_text(["gbm-depth-8", "gbm-depth-4", "rf-500"])
    expect(page.locator("figure[data-metric='train_loss'] ul.run-legend")).to_be_visible()

    diff = page.locator("#param-diff")
    expect(diff.locator("tr[data-param='max_depth']")).to_have_class("differs")
    expect(diff.locator("tr[data-param='model']")).to_have_class("differs")
    expect(diff.locator("tr[data-param='n_estimators']")).to_have_class("differs")
    expect(diff.locator("tr[data-param='max_depth'] td")).to_have_text(["8", "4", "12"])
    expect(page.locator("#metric-compare")).to_contain_text("0.91")
    parallel = page.locator("svg.parallel")
    expect(parallel.locator("g.pc-run")).to_have_count(3)
    expect(parallel.locator("g.pc-axis")).to_have_count(4)  # 3 numeric params + the metric
    screenshot(page, "61-compare")

    page.locator("#pc-metric").select_option("f1")  # applies on change
    expect(page.locator("g.pc-axis.metric")).to_have_attribute("data-axis", "f1")
    expect(diff.locator("tr[data-param='learning_rate'] td")).to_have_text(["0.1", "0.05", "—"])
    page.get_by_role("link", name="Only differing (4)").click()
    expect(page.locator("#param-diff tbody tr")).to_have_count(4)  # all four differ
    assert set(ids.values()) >= set(page.url.split("runs=")[1].split("&")[0].split(","))
    assert external_requests == []


def test_invalid_filter_is_explained(live_server, page: Page, screenshot: Shot) -> None:
    log_runs(live_server.url)
    response = page.goto(f"{live_server.url}/projects/CHURN/runs?filter=metrics.val_auc+%3E%3E+0.8")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_contain_text(
        "Filter: expected a number or a quoted string, got '>'"
    )
    expect(page.locator("#run-filter")).to_have_value("metrics.val_auc >> 0.8")
    screenshot(page, "63-runs-invalid-filter")


def test_run_page_with_a_million_points(
    live_server, page: Page, screenshot: Shot, external_requests: list[str]
) -> None:
    n, chunk = 1_000_000, 200_000
    with loopwise.Client(live_server.url) as client:
        client.create_project("LONG", "Long training")
        run = client.create_run("LONG", name="pretrain-1m-steps", params={"batch": 256})
        for start in range(0, n, chunk):
            steps = range(start, start + chunk)
            values = [
                2.5 * math.exp(-s / 150_000) + 0.15 * math.sin(s / 9_000) + 0.3
                + 0.08 * math.sin(s * 1.618)  # step-to-step noise: a visible band
                + (1.8 if s == 612_345 else 0.0)  # one loss spike at a single step
                for s in steps
            ]  # fmt: skip
            client.log_metric_columns(run.id, "train_loss", steps, values)
        client.log_metric_columns(run.id, "lr", range(0, n, 1000), [3e-4] * 1000)
        client.finish_run(run.id)
    started = time.perf_counter()
    response = page.goto(f"{live_server.url}/runs/{run.id}")
    elapsed = time.perf_counter() - started
    assert response is not None and response.status == 200
    print(f"\nrun page, 1,000,000 points: {response.headers.get('server-timing')}, "
          f"browser load {elapsed:.2f}s")  # fmt: skip
    chart = page.locator("[data-metric='train_loss'] svg.chart")
    expect(chart).to_be_visible()
    band = chart.locator("polygon.range").get_attribute("points") or ""
    assert len(band.split()) // 2 <= 2000
    expect(page.locator("[data-metric='train_loss']")).to_contain_text("1,000,000 points")
    expect(page.locator("[data-metric='train_loss']")).to_contain_text("min and max kept")
    screenshot(page, "62-run-1m-points")
    assert external_requests == []
