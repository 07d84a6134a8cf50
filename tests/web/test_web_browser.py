"""The web UI in a real browser, local mode (no login): forms, verdicts, charts.

Runs on SQLite only: the pages use the same services as the API, whose store tests
already cover PostgreSQL.
"""

from __future__ import annotations

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

FULL_CHARTER = {
    "problem": "Subscribers cancel without warning; retention calls come too late.",
    "business_kpi": {"name": "Monthly churn rate", "baseline": 4.1, "target": 3.2, "unit": "%"},
    "success_metric": {"key": "recall", "comparator": ">=", "threshold": 0.8},
    "constraints": [
        {"name": "Latency", "value": "p95 under 50 ms per scoring call"},
        {"name": "Explainability", "value": "top-5 reasons per prediction for the CRM"},
    ],
    "data_sources": [
        {"name": "CRM exports", "owner": "Sales Ops", "permission": "granted"},
        {"name": "Billing events", "owner": "Finance data team", "permission": "pending"},
        {"name": "Support tickets", "owner": "Customer care", "permission": "unknown"},
    ],
}


def create_project_in_browser(page: Page, base: str) -> None:
    page.goto(base + "/")
    form = page.locator("#new-project form")
    form.locator("input[name=key]").fill("CHURN")
    form.locator("input[name=name]").fill("Churn prediction")
    form.locator("textarea[name=problem]").fill(
        "Subscribers cancel without warning; retention calls come too late."
    )
    form.locator("select[name=phase]").select_option("modeling")
    form.locator("input[name=metric_key]").fill("recall")
    form.locator("select[name=comparator]").select_option(">=")
    form.locator("input[name=threshold]").fill("0.8")
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Create project").click()
    assert nav.value is not None and nav.value.status == 200
    assert page.url == f"{base}/projects/CHURN"


def create_hypothesis_in_browser(page: Page, base: str) -> str:
    page.goto(f"{base}/projects/CHURN/hypotheses")
    form = page.locator("#new-hypothesis form")
    form.locator("input[name=title]").fill("Gradient boosting beats the baseline")
    form.locator("textarea[name=statement]").fill(
        "A gradient-boosted model reaches recall >= 0.8 on the validation split."
    )
    form.locator("input[name=metric_key]").fill("recall")
    form.locator("input[name=threshold]").fill("0.8")
    form.locator("input[name=baseline]").fill("0.62")
    form.locator("input[name=time_box_end]").fill("2026-02-15")  # the clock: 2026-01-05
    form.locator("input[name=kill_criterion]").fill("Stop after five runs below 0.7")
    form.locator("input[name=kill_after_runs]").fill("5")
    with page.expect_navigation():
        form.get_by_role("button", name="Add hypothesis").click()
    assert page.url.endswith("/hypotheses/CHURN-1")
    return "CHURN-1"


def test_verdict_turns_supported_after_sdk_run(
    live_server, page: Page, screenshot: Shot, external_requests: list[str]
) -> None:
    base = live_server.url
    page.goto(base + "/")
    expect(page.locator("header.topbar")).to_contain_text("local")
    expect(page.locator("#new-project")).to_have_attribute("open", "")
    screenshot(page, "01-projects-empty")

    create_project_in_browser(page, base)
    expect(page.locator("h1")).to_have_text("Churn prediction")
    expect(page.locator("ol.phases li.current")).to_have_text("Modeling")

    item_key = create_hypothesis_in_browser(page, base)
    badge = page.locator("#verdict [data-verdict]")
    expect(badge).to_have_text("○ open")
    expect(page.locator("#history")).to_contain_text("Created")

    with (
        loopwise.Client(live_server.url) as client,
        client.start_run(
            project="CHURN",
            hypothesis=item_key,
            name="gbm-depth-6",
            params={"model": "gbm", "max_depth": 6, "learning_rate": 0.05},
            git_commit="3f2a9c1d0b7e",
        ) as run,
    ):
        for epoch in range(40):
            run.log_metric("loss", 0.9 * 0.93**epoch)
            run.log_metric("recall", 0.55 + epoch * 0.008)
        run.log_metric("recall", 0.86)
        run.log_text("precision 0.71, recall 0.86", "reports/summary.txt")

    page.reload()
    expect(badge).to_have_text("✓ supported")
    expect(page.locator("#verdict-reason")).to_contain_text("0.86")
    expect(page.locator("#evidence")).to_contain_text("gbm-depth-6")
    expect(page.locator("#evidence")).to_contain_text("decided the verdict")
    expect(page.locator("#history")).to_contain_text("Verdict")
    screenshot(page, "04-hypothesis-supported")

    page.goto(f"{base}/projects/CHURN/hypotheses")
    row = page.locator(f"#hypotheses tr[data-key='{item_key}']")
    expect(row.locator("[data-verdict]")).to_have_text("✓ supported")
    expect(row.get_by_role("link", name="deciding run")).to_be_visible()
    screenshot(page, "03-hypotheses")

    with loopwise.Client(live_server.url) as client:
        client.update_project("CHURN", charter=FULL_CHARTER)
    page.goto(base + "/")
    expect(page.locator("tbody tr")).to_have_count(1)
    screenshot(page, "01-projects")
    page.goto(f"{base}/projects/CHURN")
    expect(page.locator("main")).to_contain_text("Monthly churn rate")
    expect(page.locator("main")).to_contain_text("CRM exports")
    expect(page.locator("main")).to_contain_text("✓ granted")
    screenshot(page, "02-project")
    page.goto(f"{base}/projects/CHURN/runs")
    expect(page.locator("#runs")).to_contain_text("gbm-depth-6")
    expect(page.locator("#runs thead")).to_contain_text("recall")
    screenshot(page, "05-runs")
    assert external_requests == []


def test_run_page_shows_svg_chart_per_metric(
    live_server, page: Page, screenshot: Shot, external_requests: list[str]
) -> None:
    with loopwise.Client(live_server.url) as client:
        client.create_project("VISION", "Defect detection")
        with client.start_run("VISION", name="resnet-small", params={"epochs": 3000}) as run:
            for step in range(3000):  # long enough to be downsampled; one spike
                run.log_metric("train_loss", 2.0 / (1 + step / 50) + (4.0 if step == 1717 else 0))
            for step, value in enumerate([0.4, 0.55, float("nan"), 0.61, 0.66, float("inf")]):
                run.log_metric("val_accuracy", value, step=step)
            run.log_text("a,b\n1,2\n", "data/sample.csv")
        run_id = run.id

    page.goto(f"{live_server.url}/runs/{run_id}")
    chart = page.locator("[data-metric='train_loss'] svg.chart")
    expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 1
    points = chart.locator("polyline").get_attribute("points") or ""
    assert 100 < len(points.split()) <= 1000
    expect(page.locator("[data-metric='train_loss']")).to_contain_text("min and max kept")
    accuracy = page.locator("[data-metric='val_accuracy']")
    expect(accuracy.locator("svg.chart")).to_be_visible()
    expect(accuracy).to_contain_text("1 NaN point skipped")
    expect(accuracy).to_contain_text("clipped")
    expect(page.locator("#params")).to_contain_text("epochs")
    download = page.get_by_role("link", name="Download")
    expect(download).to_have_count(0)  # the only file is in a folder
    page.get_by_role("link", name="data/").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    assert Path(info.value.path()).read_bytes() == b"a,b\n1,2\n"
    page.goto(f"{live_server.url}/runs/{run_id}")
    screenshot(page, "06-run")
    assert external_requests == []


def test_forms_show_validation_errors(live_server, page: Page, screenshot: Shot) -> None:
    base = live_server.url
    page.goto(base + "/")
    form = page.locator("#new-project form")
    form.locator("input[name=key]").fill("1bad key")
    form.locator("input[name=metric_key]").fill("auc")
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Create project").click()
    assert nav.value is not None and nav.value.status == 400
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Key: use 2 to 10 letters or digits")
    expect(alert).to_contain_text("Name: required")
    expect(alert).to_contain_text("Success metric threshold: must be a number")
    expect(page.locator("input[name=key]")).to_have_value("1bad key")  # kept for fixing
    screenshot(page, "07-project-form-errors")

    create_project_in_browser(page, base)
    page.goto(f"{base}/projects/CHURN/hypotheses")
    form = page.locator("#new-hypothesis form")
    form.locator("input[name=title]").fill("Too vague")
    form.locator("input[name=threshold]").fill("high")
    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Add hypothesis").click()
    assert nav.value is not None and nav.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("Threshold: must be a number")
    expect(page.get_by_role("alert")).to_contain_text("Statement: required")
    screenshot(page, "08-hypothesis-form-errors")


def test_phase_change_and_error_page(live_server, page: Page, screenshot: Shot) -> None:
    base = live_server.url
    create_project_in_browser(page, base)
    page.locator("#phase-select").select_option("evaluation")
    with page.expect_navigation():
        page.get_by_role("button", name="Change phase").click()
    expect(page.locator("ol.phases li.current")).to_have_text("Evaluation")
    response = page.goto(f"{base}/projects/NOPE")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("header.topbar")).to_contain_text("Projects")
    screenshot(page, "09-not-found")
