"""Pages without a browser: status codes, form validation, escaping, sign-in, query counts.

These run on SQLite and PostgreSQL (through the ``app`` and ``auth_app`` fixtures).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI
from sqlalchemy import event
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Actor
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.web.deps import SESSION_COOKIE
from loopwise.web.pages import safe_next

PASSWORD = "correct horse battery"
HYPOTHESIS = {
    "title": "Boosting beats logistic regression",
    "statement": "Gradient boosting reaches recall >= 0.8",
    "metric_key": "recall",
    "comparator": ">=",
    "threshold": "0.8",
    "baseline": "0.6",
    "time_box_end": "2026-03-01",
    "kill_criterion": "five runs without progress",
    "kill_after_runs": "5",
}


def alerts(html: str) -> list[str]:
    block = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(1)) if block else []


@pytest.fixture
def seeded(client: Client) -> dict[str, str]:
    """CHURN with a supported hypothesis, a finished run with metrics and an artifact."""
    client.create_project(
        "CHURN",
        "Churn <model>",
        charter={
            "problem": "Customers leave",
            "business_kpi": {"name": "churn rate", "baseline": 4.0, "target": 3.0, "unit": "%"},
            "data_sources": [{"name": "CRM", "owner": "Sales", "permission": "granted"}],
            "constraints": [{"name": "latency", "value": "50 ms"}],
        },
    )
    h = client.create_hypothesis(
        "CHURN", "GB wins", statement="GB reaches recall 0.8", metric="recall", threshold=0.8
    )
    with client.start_run("CHURN", hypothesis=h.item.key, params={"lr": 0.1}) as run:
        for step in range(20):
            run.log_metric("loss", 1 / (step + 1))
        run.log_metric("recall", 0.9)
        run.log_text("hello", "reports/notes.txt")
    return {"item": h.item.key, "run": run.id}


def test_every_page_renders(api: TestClient, seeded: dict[str, str]) -> None:
    run, item = seeded["run"], seeded["item"]
    pages = {
        "/": "Churn &lt;model&gt;",
        "/projects/CHURN": "churn rate",
        "/projects/churn": "CRM",  # keys are case-insensitive
        "/projects/CHURN/hypotheses": "✓ supported",
        f"/hypotheses/{item}": "decided the verdict",
        "/projects/CHURN/runs": '<span title="0.1">0.1</span>',  # params.lr column
        "/projects/CHURN/runs?status=finished": '<span title="0.1">0.1</span>',
        f"/runs/{run}": "<svg",
        f"/runs/{run}?path=reports": "reports/notes.txt",
    }
    for path, expected in pages.items():
        response = api.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert expected in response.text, path
        assert '<link rel="stylesheet" href="/static/style.css">' in response.text
        text = response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in text and "https://" not in text, f"{path} links elsewhere"


def test_static_css_is_served(api: TestClient) -> None:
    response = api.get("/static/style.css")
    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


def test_user_text_is_escaped(api: TestClient, client: Client) -> None:
    client.create_project("XSS", "<script>alert(1)</script>", charter={"problem": "<b>bold</b>"})
    html = api.get("/projects/XSS").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_create_project_through_the_form(api: TestClient) -> None:
    form = {
        "key": "fraud",
        "name": "Card fraud",
        "problem": "Chargebacks cost money",
        "phase": "data_understanding",
        "metric_key": "auc",
        "comparator": ">=",
        "threshold": "0.9",
    }
    response = api.post("/projects", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/FRAUD"
    page = api.get("/projects/FRAUD").text
    assert "Chargebacks cost money" in page and "auc ≥ 0.9" in page
    assert 'aria-current="step">Data understanding' in page


@pytest.mark.parametrize(
    ("form", "messages"),
    [
        ({"key": "", "name": ""}, ["Key: use 2 to 10 letters", "Name: required"]),
        ({"key": "9LIVES", "name": "x"}, ["Key: use 2 to 10 letters"]),
        ({"key": "OK", "name": "x", "metric_key": "auc"}, ["Success metric threshold: must be"]),
        ({"key": "OK", "name": "x", "threshold": "0.5"}, ["Success metric key: required"]),
        ({"key": "OK", "name": "x", "metric_key": "a", "threshold": "nan"}, ["must be a finite"]),
        ({"key": "OK", "name": "x", "phase": "dreaming"}, ["Phase: Input should be"]),
    ],
)
def test_project_form_errors_rerender_with_400(
    api: TestClient, form: dict[str, str], messages: list[str]
) -> None:
    response = api.post("/projects", data=form)
    assert response.status_code == 400
    found = alerts(response.text)
    for expected in messages:
        assert any(m.startswith(expected) or expected in m for m in found), (expected, found)
    assert 'id="new-project" open' in response.text  # the form stays open, values kept
    assert api.get("/").text.count("<tbody>") == 0  # nothing was created


def test_duplicate_project_key_is_a_409_with_the_form(api: TestClient, client: Client) -> None:
    client.create_project("DUP", "First")
    response = api.post("/projects", data={"key": "dup", "name": "Second"})
    assert response.status_code == 409
    assert alerts(response.text) == ["project key &#39;DUP&#39; is taken"]


def test_create_hypothesis_through_the_form(api: TestClient, client: Client) -> None:
    client.create_project("CHURN", "Churn")
    response = api.post("/projects/CHURN/hypotheses", data=HYPOTHESIS, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/hypotheses/CHURN-1"
    h = client.get_hypothesis("CHURN-1")
    assert h.threshold == 0.8 and h.baseline == 0.6 and h.kill_after_runs == 5
    assert h.time_box_end is not None and h.time_box_end.isoformat() == "2026-03-01T23:59:59+00:00"
    assert "○ open" in api.get("/hypotheses/CHURN-1").text


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": "", "statement": ""}, ["Title: required", "Statement: required"]),
        ({"threshold": "high"}, ["Threshold: must be a number"]),
        ({"threshold": ""}, ["Threshold: must be a number"]),
        ({"baseline": "inf"}, ["Baseline: must be a finite number"]),
        ({"time_box_end": "next week"}, ["Time-box end: 'next week' is not a date"]),
        ({"time_box_end": "2025-12-31"}, ["Time-box end: 2025-12-31 is in the past"]),
        ({"kill_after_runs": "0"}, ["Kill after N runs: Input should be greater than"]),
        ({"kill_after_runs": "2.5"}, ["Kill after N runs: must be a whole number"]),
        ({"comparator": "=="}, ["Comparator: Input should be"]),
    ],
)
def test_hypothesis_form_errors_rerender_with_400(
    api: TestClient, client: Client, changes: dict[str, str], expected: list[str]
) -> None:
    client.create_project("CHURN", "Churn")
    response = api.post("/projects/CHURN/hypotheses", data={**HYPOTHESIS, **changes})
    assert response.status_code == 400
    found = [m.replace("&#39;", "'") for m in alerts(response.text)]
    for message in expected:
        assert any(m.startswith(message) for m in found), (message, found)
    assert client.list_hypotheses("CHURN") == []


def test_phase_form(api: TestClient, client: Client) -> None:
    client.create_project("CHURN", "Churn")
    response = api.post("/projects/CHURN/phase", data={"phase": "evaluation"})
    assert response.status_code == 200  # followed the redirect
    assert client.get_project("CHURN").phase == "evaluation"
    bad = api.post("/projects/CHURN/phase", data={"phase": "partying"})
    assert bad.status_code == 400
    assert "Phase: Input should be" in bad.text


def test_missing_things_render_the_error_page(api: TestClient) -> None:
    for path in ("/projects/NOPE", "/projects/NOPE/runs", "/hypotheses/NOPE-1", "/runs/run_x"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text and 'class="topbar"' in response.text
    assert api.get("/nowhere").status_code == 404
    assert api.get("/projects/CHURN/runs?offset=-1").status_code == 400


def test_cross_site_form_posts_are_refused(api: TestClient) -> None:
    form = {"key": "EVIL", "name": "Evil"}
    response = api.post("/projects", data=form, headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    same = api.post("/projects", data=form, headers={"origin": "http://testserver"})
    assert same.status_code == 200  # created, redirected to the project page


def test_local_mode_needs_no_login(api: TestClient) -> None:
    page = api.get("/").text
    assert "local mode" in page and "Sign in" not in page
    response = api.get("/login?next=/projects/X", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/projects/X"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/projects/X?a=1", "/projects/X?a=1"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("projects", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


# --- query counts ------------------------------------------------------------------------


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.state.loopwise.db.engine

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_list_pages_do_not_query_per_row(app: FastAPI, api: TestClient, client: Client) -> None:
    def grow(n: int) -> None:
        client.create_project(f"P{n}", f"Project {n}")
        h = client.create_hypothesis(f"P{n}", "h", statement="s", metric=f"m{n % 2}", threshold=1.0)
        with client.start_run(f"P{n}", hypothesis=h.item.key, params={"n": n}) as run:
            run.log_metric(f"m{n % 2}", 0.5)

    def cost(path: str) -> int:
        with counting(app) as statements:
            assert api.get(path).status_code == 200
        return len(statements)

    grow(0)
    small = {p: cost(p) for p in ("/", "/projects/P0", "/projects/P0/hypotheses")}
    small_runs = cost("/projects/P0/runs")
    for n in range(1, 6):
        grow(n)
    for n in range(1, 6):  # more hypotheses and runs in P0 itself, on the same metric
        h = client.create_hypothesis("P0", f"h{n}", statement="s", metric="m0", threshold=1.0)
        with client.start_run("P0", hypothesis=h.item.key, params={"n": n}) as run:
            run.log_metric("m0", 2.0)
            run.log_metric(f"extra{n}", 2.0)
    assert cost("/") == small["/"]
    assert cost("/projects/P0/runs") == small_runs
    # Evidence is read once per distinct metric key, not per hypothesis or run.
    assert cost("/projects/P0/hypotheses") == small["/projects/P0/hypotheses"]
    assert cost("/projects/P0") == small["/projects/P0"]


# --- auth mode ---------------------------------------------------------------------------


@pytest.fixture
def auth_api(auth_app: FastAPI) -> Iterator[TestClient]:
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        alice = accounts.create_user(
            session, state.clock, "alice", password=PASSWORD, is_admin=True
        )
        accounts.create_user(session, state.clock, "victor", password=PASSWORD)
        accounts.create_user(session, state.clock, "carol", password=PASSWORD)
        accounts.create_user(session, state.clock, "olga", password=PASSWORD)
    with state.context(Actor(alice.id, alice.username, is_admin=True), write=True) as ctx:
        project = projects.create_project(ctx, ProjectCreate(key="FRAUD", name="Card fraud"))
        accounts.set_member(ctx, project.id, "victor", Role.VIEWER)
        accounts.set_member(ctx, project.id, "carol", Role.CONTRIBUTOR)
    with TestClient(auth_app, raise_server_exceptions=False) as http:
        yield http


def login(http: TestClient, username: str, next_path: str = "/") -> None:
    response = http.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": next_path},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == safe_next(next_path)


def test_pages_redirect_to_login_when_signed_out(auth_api: TestClient) -> None:
    response = auth_api.get("/projects/FRAUD/runs?offset=0", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/projects/FRAUD/runs%3Foffset%3D0"
    page = auth_api.get("/login?next=/projects/FRAUD")
    assert page.status_code == 200
    assert 'name="next" value="/projects/FRAUD"' in page.text
    evil = auth_api.get("/login?next=//evil.example")
    assert 'name="next" value="/"' in evil.text


def test_login_form_errors(auth_api: TestClient) -> None:
    empty = auth_api.post("/login", data={"username": "victor", "password": ""})
    assert empty.status_code == 400
    assert alerts(empty.text) == ["Enter both your username and your password."]
    wrong = auth_api.post("/login", data={"username": "victor", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert alerts(wrong.text) == ["Wrong username or password."]
    assert 'value="victor"' in wrong.text and SESSION_COOKIE not in wrong.cookies


def test_login_sets_session_cookie_and_logout_revokes_it(auth_api: TestClient) -> None:
    response = auth_api.post(
        "/login",
        data={"username": "victor", "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    header = response.headers["set-cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in header and "SameSite=lax" in header
    secret = auth_api.cookies[SESSION_COOKIE]
    home = auth_api.get("/")
    assert "Signed in as <strong>victor</strong>" in home.text and "Card fraud" in home.text
    assert auth_api.get("/logout").status_code == 200  # the confirmation page
    out = auth_api.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert SESSION_COOKIE not in auth_api.cookies
    auth_api.cookies.set(SESSION_COOKIE, secret)  # a stolen copy is useless now
    assert auth_api.get("/", follow_redirects=False).status_code == 303


def test_roles_on_pages(auth_api: TestClient) -> None:
    login(auth_api, "victor")
    page = auth_api.get("/projects/FRAUD/hypotheses").text
    assert 'id="new-hypothesis"' not in page and "needs the contributor role" in page
    assert 'id="phase-select"' not in auth_api.get("/projects/FRAUD").text
    denied = auth_api.post("/projects/FRAUD/hypotheses", data=HYPOTHESIS)
    assert denied.status_code == 403 and "victor is viewer" in denied.text
    invalid = auth_api.post("/projects/FRAUD/hypotheses", data={"title": ""})
    assert invalid.status_code == 403  # the role is checked before the form
    assert auth_api.post("/projects/FRAUD/phase", data={"phase": "modeling"}).status_code == 403

    login(auth_api, "carol")
    assert 'id="new-hypothesis"' in auth_api.get("/projects/FRAUD/hypotheses").text
    created = auth_api.post("/projects/FRAUD/hypotheses", data=HYPOTHESIS, follow_redirects=False)
    assert created.status_code == 303
    assert auth_api.post("/projects/FRAUD/phase", data={"phase": "modeling"}).status_code == 403

    login(auth_api, "olga")
    for path in ("/projects/FRAUD", "/projects/FRAUD/hypotheses", "/hypotheses/FRAUD-1"):
        assert auth_api.get(path).status_code == 404, path
    assert "Card fraud" not in auth_api.get("/").text
