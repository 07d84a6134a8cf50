"""Gates in a real browser, sign-in on and the default gates on: a canary move is refused
with what is missing, the fairness audit is run from the audits page, the checklists are
attested, the author cannot approve (separation of duties), a second user approves, and
the move goes through. Runs on SQLite only (the services' store tests cover PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Actor
from loopwise.core.settings import Settings
from loopwise.data import service as data
from loopwise.governance import service as gates
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

Shot = Callable[[Page, str], Path]
PASSWORD = "correct horse battery"
TEST_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")
CANARY = ("bias_audit", "privacy_review", "ethics_checkpoint")


@pytest.fixture
def auth_settings(tmp_path: Path, database_url: str) -> Settings:
    """Sign-in required, default gates on (the shared fixtures turn them off)."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        auth=True,
        verdict_refresh_seconds=0,
        allowed_hosts=TEST_HOSTS,
    )


@pytest.fixture
def app(auth_app: FastAPI) -> FastAPI:
    return auth_app


@pytest.fixture
def actors(auth_app: FastAPI) -> dict[str, Actor]:
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        made = [
            accounts.create_user(
                session, state.clock, name, password=PASSWORD, is_admin=name == "root"
            )
            for name in ("root", "ana", "bob")
        ]
    return {u.username: Actor(u.id, u.username, u.is_admin) for u in made}


@pytest.fixture
def gate_ids(auth_app: FastAPI, actors: dict[str, Actor], tmp_path: Path) -> dict[str, str]:
    """GOV: ana (maintainer) registered churn v1; bob is a project admin; root a workspace
    admin. A scored dataset version holds labels, v1's predictions and the sensitive
    column (the selection rates of F and M are close: the bias criterion passes)."""
    state = auth_app.state.loopwise
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "label": rng.integers(0, 2, 400),
            "pred": rng.integers(0, 2, 400),
            "sex": np.repeat(["F", "M"], 200),
        }
    )
    scored = tmp_path / "scored.parquet"
    frame.to_parquet(scored, index=False)
    with state.context(actors["root"], write=True) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key="GOV", name="Governed"))
        accounts.set_member(ctx, project.id, "ana", Role.MAINTAINER)
        accounts.set_member(ctx, project.id, "bob", Role.ADMIN)
    with state.context(actors["ana"], write=True) as ctx:
        registry.create_model(ctx, "GOV", "churn")
        registry.create_version(ctx, "churn", source="s3://models/churn/1")
        data.register_path(ctx, "GOV", "scored", scored)
        found = gates.version_gates(ctx, "churn", 1)
    return {g.template: g.id for g in found if g.template in CANARY}


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")


def start_canary(page: Page, base: str) -> None:
    page.goto(f"{base}/models/churn")
    page.locator("#v1").get_by_role("button", name="Start canary").click()
    page.wait_for_load_state()


def attest_all(page: Page, base: str, gate_id: str) -> None:
    page.goto(f"{base}/gates/{gate_id}")
    buttons = page.locator("#checklist-table").get_by_role("button", name="Attest")
    while buttons.count():
        with page.expect_navigation():
            buttons.first.click()


def approve(page: Page, base: str, gate_id: str) -> None:
    page.goto(f"{base}/gates/{gate_id}")
    with page.expect_navigation():
        page.locator("#approve-form").get_by_role("button").click()


def sign_off(app: FastAPI, gate_id: str, attester: Actor, approver: Actor) -> None:
    """A gate other than the bias audit, signed off below the pages (they are the same
    forms as the bias gate's: the browser does that one)."""
    state = app.state.loopwise
    for actor in (attester, approver):
        with state.context(actor, write=True) as ctx:
            gate = gates.get_gate(ctx, gate_id)
            for r in gate.review.requirements:
                item = r.id.removeprefix("checklist:")
                if r.id.startswith("checklist:") and r.state.value == "missing":
                    role = next(i.role for i in gate.definition.checklist if i.key == item)
                    if role != "admin" or actor is approver:
                        gates.attest(ctx, gate_id, item)
            if actor is approver:
                gates.approve(ctx, gate_id, "reviewed")


def test_a_gate_holds_a_canary_until_audit_attestations_and_a_second_approval(
    live_server,
    app: FastAPI,
    actors: dict[str, Actor],
    gate_ids: dict[str, str],
    page: Page,
    screenshot: Shot,
) -> None:
    base = live_server.url
    sign_in(page, base, "ana")
    start_canary(page, base)
    refused = page.get_by_role("alert")
    expect(refused).to_contain_text("v1 → canary: v1 cannot go to canary yet")
    expect(refused).to_contain_text("no recorded fairness.demographic_parity_ratio")
    expect(page.locator("#version-gates [data-gate-status=blocked]")).to_have_count(6)
    screenshot(page, "gov-1-canary-refused")

    # The audit, from the version's audits page (linked from the gates panel).
    page.locator("#version-gates").get_by_role("link", name="fairness audits").click()
    form = page.locator("#run-audit form")
    form.locator("[name=label_col]").fill("label")
    form.locator("[name=prediction_col]").fill("pred")
    form.locator("[name=sensitive_cols]").fill("sex")
    form.locator("[name=bootstrap]").fill("200")
    with page.expect_navigation():
        form.get_by_role("button", name="Run audit").click()
    expect(page.locator("section.audit")).to_have_count(1)
    expect(page.locator("section.audit tr[data-group='sex=F']")).to_be_visible()
    screenshot(page, "gov-2-audit")

    # ana attests the bias gate's checklist; the author's approval is refused (SoD).
    attest_all(page, base, gate_ids["bias_audit"])
    expect(page.locator("[data-requirement='criterion:1'] [data-state=met]")).to_be_visible()
    with page.expect_navigation() as nav:
        page.locator("#approve-form").get_by_role("button").click()
    assert nav.value is not None and nav.value.status == 403
    expect(page.get_by_role("alert")).to_contain_text(
        "separation of duties: the author of a model version cannot approve"
    )
    screenshot(page, "gov-3-sod-refused")
    sign_out(page)

    # bob (project admin) approves; the two other canary gates are signed off likewise.
    for template in ("privacy_review", "ethics_checkpoint"):
        sign_off(app, gate_ids[template], actors["ana"], actors["bob"])
    sign_in(page, base, "bob")
    approve(page, base, gate_ids["bias_audit"])
    expect(page.locator("#gate-status [data-gate-status=passed]")).to_be_visible()
    screenshot(page, "gov-4-gate-passed")
    page.goto(f"{base}/projects/GOV/gates")
    screenshot(page, "gov-5-project-gates")

    start_canary(page, base)
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("#v1 [data-stage=canary]")).to_be_visible()
    screenshot(page, "gov-6-canary")
    sign_out(page)

    sign_in(page, base, "root")  # the trail shows bob's approvals
    page.goto(f"{base}/audit?action=gate.approve")
    expect(page.locator("#audit-entries tbody tr")).to_have_count(3)  # one each gate
    expect(page.locator("[data-chain=ok]")).to_be_visible()
    screenshot(page, "gov-7-audit-log")
