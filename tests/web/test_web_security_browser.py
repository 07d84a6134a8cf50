"""An uploaded HTML artifact never runs in the browser (issue 13, point 3).

A contributor plants a page whose script would rename the tab and create a project and
an MLflow experiment as whoever opens it. Opening its download links (native and MLflow)
in a real browser saves the file; nothing runs. A positive control serves the same bytes
as a page of the server's origin to show the script would be seen if it ran.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route
from playwright.sync_api import Error as PlaywrightError

import loopwise

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]

PLANTED = b"""<!doctype html>
<html><head><title>planted</title></head>
<body><p>planted page</p>
<script>
  document.title = "pwned";
  var json = {"Content-Type": "application/json"};
  fetch("/api/v1/projects", {method: "POST", headers: json,
        body: JSON.stringify({key: "PWND", name: "pwned"})});
  fetch("/api/2.0/mlflow/experiments/create", {method: "POST", headers: json,
        body: JSON.stringify({name: "pwned"})});
</script></body></html>
"""


def _planted(base: str) -> tuple[list[str], list[str]]:
    """Project keys and MLflow experiment names, read as a client that is no browser."""
    with loopwise.Client(base) as client:
        keys = [p.key for p in client.list_projects()]
    found = httpx.post(f"{base}/api/2.0/mlflow/experiments/search", json={}).json()
    return keys, [e["name"] for e in found.get("experiments", [])]


def test_an_uploaded_html_artifact_never_runs(
    live_server, page: Page, browser_context: BrowserContext, screenshot: Shot
) -> None:
    base = live_server.url
    with loopwise.Client(base) as client:
        client.create_project("SEC", "Security")
        run = client.create_run("SEC")
        client.upload_artifact(run.id, "evil.html", PLANTED)
    hex_id = run.id.removeprefix("run_")
    info = httpx.get(f"{base}/api/2.0/mlflow/runs/get", params={"run_id": hex_id}).json()
    number = info["run"]["info"]["experiment_id"]
    mlflow_artifacts = f"{base}/api/2.0/mlflow-artifacts/artifacts/{number}/{hex_id}/artifacts"
    links = {
        "native": f"{base}/api/v1/runs/{run.id}/artifacts/evil.html",
        "mlflow": f"{mlflow_artifacts}/evil.html",
    }

    page.goto(f"{base}/runs/{run.id}")
    title = page.title()
    assert "pwned" not in title
    for name, url in links.items():
        # The link followed from a Loopwise page, as a victim would follow it...
        with page.expect_download(timeout=10_000) as saved:
            page.evaluate("url => { window.location.href = url; }", url)
        assert saved.value.suggested_filename == "evil.html", name
        assert Path(saved.value.path()).read_bytes() == PLANTED
        # ...and opened on its own in a new tab.
        tab = browser_context.new_page()
        with tab.expect_download(timeout=10_000), contextlib.suppress(PlaywrightError):
            tab.goto(url)  # "Download is starting": the navigation ends in a download
        assert tab.title() != "pwned", name
        tab.close()
    page.wait_for_timeout(300)  # time for any fetch the script would have sent
    assert page.title() == title and page.url == f"{base}/runs/{run.id}"
    keys, experiments = _planted(base)
    assert keys == ["SEC"] and "pwned" not in experiments
    screenshot(page, "70-html-artifact-downloaded")

    # Positive control: the same bytes served as a page of this origin do run.
    def as_page(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=PLANTED)

    page.route(f"{base}/control.html", as_page)
    page.goto(f"{base}/control.html")
    page.wait_for_function("document.title === 'pwned'")
    page.wait_for_timeout(300)
    keys, experiments = _planted(base)
    assert "PWND" in keys and "pwned" in experiments


def test_api_browser_works_offline_under_the_page_policy(
    live_server, page: Page, external_requests: list[str], screenshot: Shot
) -> None:
    """/docs renders Swagger UI from the installed package: no CDN, no inline script."""
    page.goto(f"{live_server.url}/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator('[data-path="/api/v1/projects"]').count() >= 1
    assert page.locator(".opblock").count() > 50  # native and MLflow operations listed
    screenshot(page, "api-docs")
    assert external_requests == []
