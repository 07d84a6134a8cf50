"""The Documents page of a project and a document viewed as a page, without a browser: a
project viewer reads them (and downloads them over the API with the session); a stranger
may not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Actor
from loopwise.projects import service as projects
from loopwise.projects.schemas import CharterIn, ProjectCreate

PASSWORD = "correct horse battery"


@pytest.fixture
def http(auth_app: FastAPI) -> Iterator[TestClient]:
    """DOC with a charter; vera is its viewer, stan a member of nothing."""
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        root = accounts.create_user(session, state.clock, "root", password=PASSWORD, is_admin=True)
        accounts.create_user(session, state.clock, "vera", password=PASSWORD)
        accounts.create_user(session, state.clock, "stan", password=PASSWORD)
    with state.context(Actor(root.id, root.username, is_admin=True), write=True) as ctx:
        charter = CharterIn(problem="Say who will churn <soon>")
        project = projects.create_project(
            ctx, ProjectCreate(key="DOC", name="Docs", charter=charter)
        )
        accounts.set_member(ctx, project.id, "vera", Role.VIEWER)
    with TestClient(auth_app, raise_server_exceptions=False) as client:
        yield client


def _login(http: TestClient, username: str) -> None:
    response = http.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def test_a_viewer_reads_the_documents_page_and_a_document(http: TestClient) -> None:
    _login(http, "vera")
    page = http.get("/projects/DOC/documents")
    assert page.status_code == 200, page.text
    for kind in ("model-card", "datasheet", "annex-iv", "impact-assessment", "risk-register"):
        assert f'data-kind="{kind}"' in page.text
        assert f"/api/v1/projects/DOC/documents/{kind}?format=pdf" in page.text
    assert 'id="calendar"' in page.text and "2026-08-02" in page.text
    view = http.get("/projects/DOC/documents/annex-iv")
    assert view.status_code == 200
    assert "9. Post-market monitoring plan (Art. 72)" in view.text
    assert "Say who will churn &lt;soon&gt;" in view.text  # escaped, linked to the project
    assert 'href="/projects/DOC"' in view.text
    download = http.get("/api/v1/projects/DOC/documents/annex-iv?format=pdf")
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert http.get("/projects/DOC/documents/nope").status_code == 400
    http.post("/logout")
    http.cookies.clear()
    _login(http, "stan")
    assert http.get("/projects/DOC/documents").status_code in (403, 404)
