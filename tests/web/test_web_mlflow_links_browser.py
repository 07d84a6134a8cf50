"""The links the MLflow client prints (``/#/experiments/N/runs/ID``, ``/#/models/NAME/
versions/V``, ``/#/experiments/N``) open the matching Loopwise pages in a real browser,
through the home page's script (SQLite only, as every browser test)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

import loopwise

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]
API = "/api/2.0/mlflow"


def _logged(base: str) -> tuple[str, str]:
    """An MLflow experiment and run in project CHURN, the run tagged with a hypothesis
    key that does not exist, and version 1 of the model "churn model" built from it."""
    with loopwise.Client(base) as sdk:
        sdk.create_project("CHURN", "Churn prediction")
    with httpx.Client(base_url=base) as http:
        exp = http.post(f"{API}/experiments/create", json={"name": "CHURN/gb"}).json()
        tags = [{"key": "loopwise.hypothesis", "value": "CHURN-999"}]
        body = {"experiment_id": exp["experiment_id"], "run_name": "gb-depth-4", "tags": tags}
        run = http.post(f"{API}/runs/create", json=body).json()["run"]["info"]
        metric = {"run_id": run["run_id"], "key": "auc", "value": 0.87, "timestamp": 1, "step": 0}
        assert http.post(f"{API}/runs/log-metric", json=metric).status_code == 200
        end = {"run_id": run["run_id"], "status": "FINISHED"}
        assert http.post(f"{API}/runs/update", json=end).status_code == 200
        assert http.post(f"{API}/registered-models/create", json={"name": "churn model"}).is_success
        version = {"name": "churn model", "source": "runs:/x/model", "run_id": run["run_id"]}
        assert http.post(f"{API}/model-versions/create", json=version).is_success
    return exp["experiment_id"], run["run_id"]


def test_mlflow_ui_links_open_loopwise_pages(
    live_server, page: Page, screenshot: Shot, csp_violations: list[str]
) -> None:
    base = live_server.url
    exp, run_id = _logged(base)

    page.goto(f"{base}/#/experiments/{exp}/runs/{run_id}")
    expect(page).to_have_url(f"{base}/runs/run_{run_id}")
    expect(page.locator("h1")).to_have_text("gb-depth-4")
    expect(page.locator("#run-plan")).to_contain_text("unlinked: no such hypothesis CHURN-999")
    screenshot(page, "mlflow-link-run")

    page.goto(f"{base}/#/models/churn%20model/versions/1")
    expect(page).to_have_url(f"{base}/models/churn%20model#v1")
    expect(page.locator("h1")).to_contain_text("churn model")
    screenshot(page, "mlflow-link-model-version")

    page.goto(f"{base}/#/experiments/{exp}")
    expect(page).to_have_url(re.compile(r"/projects/CHURN/runs\?experiment=exp_\w+$"))
    expect(page.locator("#runs tbody tr")).to_have_count(1)

    page.goto(f"{base}/#/not-an-mlflow-link")  # anything else: the home page stays
    expect(page.locator("h1")).to_be_visible()
    assert page.url == f"{base}/#/not-an-mlflow-link"
    assert csp_violations == []
