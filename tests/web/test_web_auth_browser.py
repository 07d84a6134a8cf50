"""The web UI in a real browser with sign-in required (``auth=True``): roles and sessions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import BrowserContext, Page, expect

import loopwise
from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Actor
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.web.deps import SESSION_COOKIE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]
PASSWORD = "correct horse battery"


@pytest.fixture
def app(auth_app: FastAPI) -> FastAPI:
    """``live_server`` serves the app that requires sign-in."""
    return auth_app


@pytest.fixture
def admin_token(auth_app: FastAPI) -> str:
    """Users alice (workspace admin), victor (viewer on FRAUD), olga (no membership)."""
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        alice = accounts.create_user(
            session, state.clock, "alice", password=PASSWORD, is_admin=True
        )
        accounts.create_user(session, state.clock, "victor", password=PASSWORD)
        accounts.create_user(session, state.clock, "olga", password=PASSWORD)
        _token, secret = accounts.create_token(session, state.clock, alice.id, "sdk")
    with state.context(Actor(alice.id, alice.username, is_admin=True), write=True) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key="FRAUD", name="Card fraud"))
        accounts.set_member(ctx, project.id, "victor", Role.VIEWER)
    return secret


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_viewer_cannot_add_hypothesis_and_sessions_end_on_sign_out(
    live_server,
    admin_token: str,
    page: Page,
    browser_context: BrowserContext,
    screenshot: Shot,
    external_requests: list[str],
) -> None:
    base = live_server.url
    with (
        loopwise.Client(base, token=admin_token) as client,
        client.start_run("FRAUD", name="xgb-baseline") as run,
    ):
        for step in range(50):
            run.log_metric("auc", 0.7 + step * 0.004)

    response = page.goto(f"{base}/projects/FRAUD")
    assert response is not None
    assert page.url == f"{base}/login?next=/projects/FRAUD"
    expect(page.locator("header.topbar")).to_contain_text("Sign in")
    sign_in(page, "victor", "wrong password")
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    screenshot(page, "10-login-error")

    sign_in(page, "victor")
    assert page.url == f"{base}/projects/FRAUD"
    expect(page.locator("header.topbar")).to_contain_text("Signed in as victor")
    expect(page.locator("#phase-select")).to_have_count(0)  # maintainers only
    cookie = next(c for c in browser_context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"

    page.goto(f"{base}/projects/FRAUD/hypotheses")
    expect(page.locator("#new-hypothesis")).to_have_count(0)
    expect(page.locator(".notice")).to_contain_text("needs the contributor role")
    # Posting the form anyway (a stale tab, a crafted page) is refused by the server.
    with page.expect_navigation() as nav:
        page.evaluate(
            """([action, fields]) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                for (const [name, value] of Object.entries(fields)) {
                    const input = document.createElement("input");
                    input.name = name;
                    input.value = value;
                    form.appendChild(input);
                }
                document.body.appendChild(form);
                form.submit();
            }""",
            [
                "/projects/FRAUD/hypotheses",
                {"title": "t", "statement": "s", "metric_key": "auc", "threshold": "0.9"},
            ],
        )
    assert nav.value is not None and nav.value.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("victor is viewer")
    screenshot(page, "11-forbidden")

    page.goto(f"{base}/projects/FRAUD/runs")
    page.get_by_role("link", name="xgb-baseline").click()
    expect(page.locator("[data-metric='auc'] svg.chart")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")
    screenshot(page, "12-login")
    # The old session secret no longer works, even if someone kept a copy.
    browser_context.add_cookies([{**cookie, "sameSite": "Lax"}])  # type: ignore[typeddict-item]
    page.goto(f"{base}/projects/FRAUD")
    assert page.url.startswith(f"{base}/login?next=")
    assert external_requests == []


def test_non_member_gets_404_for_project(live_server, admin_token: str, page: Page) -> None:
    base = live_server.url
    page.goto(f"{base}/login?next=/projects/FRAUD")
    sign_in(page, "olga")
    assert page.url == f"{base}/projects/FRAUD"
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("not found")
    response = page.goto(f"{base}/projects/FRAUD")
    assert response is not None and response.status == 404
    page.goto(base + "/")
    expect(page.locator("main")).to_contain_text("No projects yet")  # FRAUD stays hidden
