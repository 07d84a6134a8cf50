"""Browsers cannot be turned against the server (issue 13, points 3 and 4).

The rules are pure functions, tested directly; each door (native API, MLflow, multipart
upload, pages, downloads) then gets one request per refusal, on an app built with the
default host list. The real mlflow client and the SDK against a live server are in
tests/mlflow and tests/sdk; the browser test is test_web_security_browser.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from starlette.testclient import TestClient

from loopwise.app import IN_PROCESS_URL, create_app, in_process
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import CrossSiteRefused
from loopwise.core.settings import Settings
from loopwise.db.base import Base
from loopwise.slices import load_tables
from loopwise.web import security
from loopwise.web.pages import check_origin

TEMPLATES = Path(security.__file__).parent / "templates"
DEFAULT = security.allowed_hosts((), "127.0.0.1")
EVIL = {"origin": "https://evil.example"}


# --- the rules ----------------------------------------------------------------------------


def test_default_hosts_are_loopback_and_the_bound_address() -> None:
    assert security.allowed_hosts((), "127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    assert security.allowed_hosts((), "10.0.0.7") == {"localhost", "127.0.0.1", "::1", "10.0.0.7"}
    for wildcard in ("0.0.0.0", "::", ""):
        assert security.allowed_hosts((), wildcard) == DEFAULT
    configured = security.allowed_hosts(["Loopwise.Example.COM", "[::1]", "fe80::1", "*"], "x")
    assert configured == {"loopwise.example.com", "::1", "fe80::1", "*"}


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:5080", True),
        ("localhost", True),
        ("LOCALHOST:80", True),
        ("localhost.:5080", True),
        ("[::1]:5080", True),
        ("[::1]", True),
        (None, True),  # no Host header: not a browser
        ("evil.example", False),
        ("evil.example:5080", False),
        ("127.0.0.1.evil.example", False),
        ("localhost@evil.example", False),
        ("localhost/x", False),
        ("localhost:notaport", False),
        ("", False),
    ],
)
def test_is_allowed_host(host: str | None, allowed: bool) -> None:
    assert security.is_allowed_host(host, DEFAULT) is allowed


def test_a_star_allows_any_host() -> None:
    assert security.is_allowed_host("evil.example", security.allowed_hosts(["*"], "x"))


@pytest.mark.parametrize(
    ("origin", "scheme", "host", "same"),
    [
        ("http://127.0.0.1:5080", "http", "127.0.0.1:5080", True),
        ("http://localhost", "http", "localhost:80", True),
        ("https://lw.example", "https", "lw.example:443", True),
        ("http://[::1]:5080", "http", "[::1]:5080", True),
        ("HTTP://LocalHost:5080", "http", "localhost:5080", True),
        ("http://127.0.0.1:5081", "http", "127.0.0.1:5080", False),  # another port
        ("https://127.0.0.1:5080", "http", "127.0.0.1:5080", False),  # another scheme
        ("http://localhost:5080", "http", "127.0.0.1:5080", False),  # another name
        ("https://evil.example", "http", "127.0.0.1:5080", False),
        ("null", "http", "127.0.0.1:5080", False),
        ("file://", "http", "127.0.0.1:5080", False),
        ("http://127.0.0.1:5080/path", "http", "127.0.0.1:5080", False),
        ("http://127.0.0.1:99999", "http", "127.0.0.1:5080", False),
        ("http://127.0.0.1:5080", "http", None, False),
    ],
)
def test_is_same_origin(origin: str, scheme: str, host: str | None, same: bool) -> None:
    assert security.is_same_origin(origin, scheme, host) is same


def test_cross_site_problem() -> None:
    def problem(method: str, origin: str | None, site: str | None = None) -> str | None:
        return security.cross_site_problem(method, "http", "127.0.0.1:5080", origin, site)

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert problem(method, "https://evil.example") is not None
        assert problem(method, "null") is not None
        assert problem(method, None, "cross-site") is not None
        assert problem(method, None) is None  # the mlflow client, the SDK, curl
        assert problem(method, "http://127.0.0.1:5080", "same-origin") is None
    for method in ("GET", "HEAD", "OPTIONS"):
        assert problem(method, "https://evil.example", "cross-site") is None


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("text/plain;charset=UTF-8", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/json", False),
        ("application/jsonp", False),
        ("", False),
        (None, False),
    ],
)
def test_is_json(content_type: str | None, expected: bool) -> None:
    assert security.is_json(content_type) is expected


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("evil.html", "application/octet-stream"),
        ("evil.htm", "application/octet-stream"),
        ("evil.svg", "application/octet-stream"),
        ("evil.js", "application/octet-stream"),
        ("evil.xml", "application/octet-stream"),
        ("page.xhtml", "application/octet-stream"),
        ("data.csv.gz", "application/octet-stream"),
        ("model.pkl", "application/octet-stream"),
        ("chart.png", "image/png"),
        ("photo.jpg", "image/jpeg"),
        ("notes.txt", "text/plain"),
        ("rows.csv", "text/csv"),
        ("config.json", "application/json"),
    ],
)
def test_download_type(name: str, media_type: str) -> None:
    assert security.download_type(name) == media_type


def test_content_disposition_is_an_attachment_with_the_exact_name() -> None:
    assert security.content_disposition("a b.txt") == (
        "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
    )
    header = security.content_disposition('é"\r\n;x.html')
    assert (
        header == "attachment; filename=\"_____x.html\"; filename*=UTF-8''%C3%A9%22%0D%0A%3Bx.html"
    )


def test_form_handlers_apply_the_origin_rule_on_their_own() -> None:
    """``pages.check_origin`` (called by form handlers) refuses what the middleware does,
    so a form stays safe in an app built without it."""

    def post(**headers: str) -> Request:
        raw = [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
        scope = {"type": "http", "method": "POST", "scheme": "http", "path": "/projects"}
        return Request({**scope, "headers": [(b"host", b"127.0.0.1:5080"), *raw]})

    check_origin(post())
    check_origin(post(origin="http://127.0.0.1:5080", sec_fetch_site="same-origin"))
    for refused in (
        post(origin="https://evil.example"),
        post(origin="null"),
        post(sec_fetch_site="cross-site"),
    ):
        with pytest.raises(CrossSiteRefused):
            check_origin(refused)


def test_no_template_runs_inline_script() -> None:
    """Scripts come from static files only: no inline <script>, event attribute or
    javascript: URL anywhere in the templates (the page CSP would block them)."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, re.I):
            if "src=" not in tag:
                found.append(f"{path.name}: {tag}")
        found += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text, re.I)]
        found += [f"{path.name}: javascript:" for _ in re.findall(r"javascript:", text, re.I)]
    assert found == []


# --- the doors ----------------------------------------------------------------------------


@pytest.fixture
def default_app(tmp_path: Path, database_url: str, clock: FrozenClock) -> Iterator[FastAPI]:
    """An app with the default host list, as ``loopwise serve`` builds it."""
    settings = Settings(
        home=tmp_path / "home", database_url=database_url, verdict_refresh_seconds=0
    )
    application = create_app(settings, clock=clock, sweep=False)
    yield application
    application.state.loopwise.db.dispose()


@pytest.fixture
def web(default_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(default_app, base_url=IN_PROCESS_URL, raise_server_exceptions=False) as http:
        yield http


def _project_keys(web: TestClient) -> list[str]:
    return [p["key"] for p in web.get("/api/v1/projects").json()]


def _experiment_names(web: TestClient) -> list[str]:
    found = web.post("/api/2.0/mlflow/experiments/search", json={"max_results": 100}).json()
    return [e["name"] for e in found.get("experiments", [])]


def _run(web: TestClient) -> str:
    if "SEC" not in _project_keys(web):
        assert web.post("/api/v1/projects", json={"key": "SEC", "name": "Sec"}).status_code == 201
    response = web.post("/api/v1/projects/SEC/runs", json={})
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5080", "loopwise.local"])
def test_a_foreign_host_is_refused_with_400_on_every_door(web: TestClient, host: str) -> None:
    headers = {"host": host}
    api = web.get("/api/v1/health", headers=headers)
    assert api.status_code == 400
    assert api.json()["error"]["code"] == "disallowed_host"
    assert "LOOPWISE_ALLOWED_HOSTS" in api.json()["error"]["message"]
    mlflow = web.post("/api/2.0/mlflow/experiments/create", json={"name": "x"}, headers=headers)
    assert mlflow.status_code == 400
    assert mlflow.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "LOOPWISE_ALLOWED_HOSTS" in mlflow.json()["message"]
    page = web.get("/", headers=headers)
    assert page.status_code == 400 and "LOOPWISE_ALLOWED_HOSTS" in page.text
    assert page.headers["content-security-policy"] == security.PAGE_CSP
    assert "x" not in _experiment_names(web)  # the create above changed nothing


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:5080", "localhost:1", "[::1]:5080"])
def test_loopback_hosts_are_served(web: TestClient, host: str) -> None:
    assert web.get("/api/v1/health", headers={"host": host}).status_code == 200


def test_configured_hosts_replace_the_default(
    tmp_path: Path, database_url: str, clock: FrozenClock
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        verdict_refresh_seconds=0,
        allowed_hosts="lw.example.com, other.example",  # type: ignore[arg-type]  # as in the env
    )
    app = create_app(settings, clock=clock, sweep=False)
    try:
        http = TestClient(app, base_url="https://lw.example.com", raise_server_exceptions=False)
        assert http.get("/api/v1/health").status_code == 200
        assert http.get("/api/v1/health", headers={"host": "127.0.0.1"}).status_code == 400
        # An in-process client keeps its loopback name whatever the setting says.
        assert in_process(settings).allowed_hosts == (
            "lw.example.com",
            "other.example",
            "127.0.0.1",
        )
    finally:
        app.state.loopwise.db.dispose()


def test_text_plain_mlflow_posts_are_refused_and_change_nothing(web: TestClient) -> None:
    """What a cross-site <form enctype=text/plain> or a no-preflight fetch can send."""
    exp = web.post("/api/2.0/mlflow/experiments/create", json={"name": "keep"}).json()
    run = web.post("/api/2.0/mlflow/runs/create", json={"experiment_id": exp["experiment_id"]})
    run_id = run.json()["run"]["info"]["run_id"]
    attacks = [
        ("experiments/create", {"name": "planted"}),
        ("experiments/delete", {"experiment_id": exp["experiment_id"]}),
        ("runs/delete", {"run_id": run_id}),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "p", "value": "v"}]}),
    ]
    for path, payload in attacks:
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            headers = {"content-type": content_type} if content_type else {}
            response = web.post(
                f"/api/2.0/mlflow/{path}",
                content=json.dumps(payload).encode(),
                headers=headers,
            )
            assert response.status_code == 415, (path, content_type, response.text)
            assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
            assert "application/json" in response.json()["message"]
    assert _experiment_names(web) == ["Default", "keep"]  # Default: there from the start
    got = web.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
    assert got["info"]["lifecycle_stage"] == "active" and got["data"]["params"] == []
    # JSON with parameters is fine; so are GETs with query strings.
    ok = web.post(
        "/api/2.0/mlflow/experiments/create",
        content=b'{"name": "charset"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200, ok.text
    by_name = web.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=charset")
    assert by_name.status_code == 200


def test_native_json_endpoints_refuse_other_content_types(web: TestClient) -> None:
    body = b'{"key": "PLANT", "name": "Planted"}'
    for headers in ({"content-type": "text/plain"}, {}):
        response = web.post("/api/v1/projects", content=body, headers=headers)
        assert response.status_code == 415, response.text
        assert response.json()["error"]["code"] == "unsupported_media_type"
    assert "PLANT" not in _project_keys(web)
    vendor = web.post(
        "/api/v1/projects", content=body, headers={"content-type": "application/vnd.x+json"}
    )
    assert vendor.status_code == 201, vendor.text
    # Uploads are not JSON endpoints: a raw artifact PUT and a multipart dataset upload.
    run_id = _run(web)
    put = web.put(f"/api/v1/runs/{run_id}/artifacts/a.bin", content=b"\x00\x01")
    assert put.status_code == 201, put.text
    upload = web.post(
        "/api/v1/projects/SEC/datasets/rows/versions", files={"file": ("rows.csv", b"a\n1\n")}
    )
    assert upload.status_code == 201, upload.text


def _stored(app: FastAPI) -> dict[str, Any]:
    """Every row of every table and every artifact file's hash: what a refusal must keep."""
    load_tables()
    state = app.state.loopwise
    with state.db.engine.connect() as conn:
        rows = {
            t.name: sorted(map(repr, conn.execute(sa.select(t))))
            for t in Base.metadata.sorted_tables
        }
    root: Path = state.settings.resolved_artifact_root
    files = {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }
    return {"rows": rows, "files": files}


def _cross_site_attempts(
    web: TestClient, run_id: str
) -> list[tuple[str, str, str, dict[str, Any]]]:
    created = web.post("/api/2.0/mlflow/experiments/create", json={"name": "target"})
    number = created.json()["experiment_id"]
    mlflow_run = web.post("/api/2.0/mlflow/runs/create", json={"experiment_id": number}).json()
    mlflow_artifacts = (
        f"/api/2.0/mlflow-artifacts/artifacts/{number}/{mlflow_run['run']['info']['run_id']}"
        "/artifacts/x.html"
    )
    upload = {"files": {"file": ("rows.csv", b"a\n1\n")}}
    return [
        ("native JSON", "POST", "/api/v1/projects", {"json": {"key": "X", "name": "x"}}),
        ("native DELETE", "DELETE", f"/api/v1/runs/{run_id}/tags/t", {}),
        ("MLflow", "POST", "/api/2.0/mlflow/experiments/create", {"json": {"name": "x"}}),
        (
            "MLflow delete",
            "POST",
            "/api/2.0/mlflow/experiments/delete",
            {"json": {"experiment_id": number}},
        ),
        ("artifact PUT", "PUT", f"/api/v1/runs/{run_id}/artifacts/x.html", {"content": b"x"}),
        ("MLflow artifact PUT", "PUT", mlflow_artifacts, {"content": b"x"}),
        ("multipart upload", "POST", "/api/v1/projects/SEC/datasets/rows/versions", upload),
        ("page form", "POST", "/projects", {"data": {"key": "X", "name": "x"}}),
        ("page upload", "POST", "/projects/SEC/datasets", upload),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://127.0.0.1:8080"},  # another port is another site
        {"sec-fetch-site": "cross-site"},
    ],
    ids=["foreign", "null", "other-port", "sec-fetch-site"],
)
def test_cross_site_writes_are_refused_on_every_door(
    web: TestClient, default_app: FastAPI, headers: dict[str, str]
) -> None:
    run_id = _run(web)
    attempts = _cross_site_attempts(web, run_id)
    before = _stored(default_app)
    for name, method, url, kwargs in attempts:
        response = web.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 403, (name, response.text)
        if name.startswith("MLflow"):
            assert response.json()["error_code"] == "PERMISSION_DENIED"
        elif not name.startswith("page"):
            assert response.json()["error"]["code"] == "cross_site_refused"
    assert _stored(default_app) == before


def test_same_origin_writes_and_cross_site_reads_pass(web: TestClient) -> None:
    same = {"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"}
    created = web.post("/api/v1/projects", json={"key": "OK", "name": "ok"}, headers=same)
    assert created.status_code == 201, created.text
    form = web.post("/projects", data={"key": "FORM", "name": "f"}, headers=same)
    assert form.status_code == 200 and "FORM" in _project_keys(web)
    assert web.get("/api/v1/projects", headers=EVIL).status_code == 200


def test_security_headers(web: TestClient) -> None:
    page = web.get("/")
    assert page.headers["content-security-policy"] == security.PAGE_CSP
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("; ")[1]
    for response in (page, web.get("/api/v1/health"), web.get("/static/board.js")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
    assert "content-security-policy" not in web.get("/api/v1/health").headers
    missing = web.get("/projects/NOPE")
    assert missing.status_code == 404
    assert missing.headers["content-security-policy"] == security.PAGE_CSP
    docs = web.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == security.PAGE_CSP
    assert re.findall(r"<script\b[^>]*>", docs.text) == [
        '<script src="/static/swagger-ui/swagger-ui-bundle.js">',
        '<script src="/static/api-docs.js">',
    ]
    for asset in ("/static/api-docs.js", "/static/swagger-ui/swagger-ui-bundle.js"):
        assert web.get(asset).status_code == 200  # served here: no CDN


def test_artifact_downloads_are_attachments(web: TestClient) -> None:
    run_id = _run(web)
    page = b"<script>document.title = 'pwned'</script>"
    assert web.put(f"/api/v1/runs/{run_id}/artifacts/evil.html", content=page).status_code == 201
    assert (
        web.put(f"/api/v1/runs/{run_id}/artifacts/chart.png", content=b"\x89PNG").status_code == 201
    )
    hex_id = run_id.removeprefix("run_")
    number = web.get("/api/2.0/mlflow/runs/get", params={"run_id": hex_id}).json()["run"]["info"][
        "experiment_id"
    ]
    for url in (
        f"/api/v1/runs/{run_id}/artifacts/evil.html",
        f"/api/2.0/mlflow-artifacts/artifacts/{number}/{hex_id}/artifacts/evil.html",
    ):
        response = web.get(url)
        assert response.status_code == 200 and response.content == page
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"] == (
            "attachment; filename=\"evil.html\"; filename*=UTF-8''evil.html"
        )
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "sandbox; default-src 'none'"
    image = web.get(f"/api/v1/runs/{run_id}/artifacts/chart.png")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"].startswith("attachment;")
