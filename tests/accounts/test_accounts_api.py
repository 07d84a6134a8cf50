"""What only the accounts doors do, in auth mode over HTTP: the bearer header and the
session cookie, 401/403/404/429 answers and their bodies, the token endpoints, local
mode, and uploads refused before their body is read. The use cases behind them are
tested directly in test_roles.py, test_tokens.py and test_login_passwords.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from accounts_support import PASSWORD, People, bearer, snapshot
from fastapi import FastAPI
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from loopwise.core.clock import FrozenClock

pytestmark = pytest.mark.store

HttpPeople = tuple[People, dict[str, TestClient]]


def error(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return response.status_code, body["error"]["code"]


BAD_HEADERS = [
    {},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dmljOnB3"},
    {"Authorization": "Bearer lwt_not-a-real-token"},
    {"Authorization": "lwt_missing_scheme"},
]


def test_requests_without_a_valid_token_are_401(
    auth_app: FastAPI, http_people: HttpPeople, clock: FrozenClock
) -> None:
    people, clients = http_people
    state = auth_app.state.loopwise
    before = snapshot(state)
    for headers in BAD_HEADERS:
        with TestClient(auth_app, headers=headers, raise_server_exceptions=False) as http:
            for method, path in [
                ("GET", "/api/v1/projects"),
                ("GET", "/api/v1/projects/CHURN"),
                ("GET", f"/api/v1/runs/{people.run_id}"),
                ("POST", "/api/v1/projects/CHURN/runs"),
                ("POST", "/api/v1/projects"),
                ("GET", "/api/v1/me"),
            ]:
                kwargs = {"json": {"key": "NEW", "name": "n"}} if method == "POST" else {}
                response = http.request(method, path, **kwargs)
                assert error(response) == (401, "unauthenticated"), (headers, method, path)
    assert snapshot(state) == before
    # An expired token: 401 with the use case's words.
    created = clients["carl"].post("/api/v1/tokens", json={"name": "ci", "expires_in": "1h"})
    clock.advance(timedelta(hours=1))
    expired = bearer(auth_app, created.json()["secret"]).get("/api/v1/me")
    assert expired.status_code == 401
    assert expired.json()["error"] == {
        "code": "unauthenticated",
        "message": "this token expired at 2026-01-05 10:00 UTC; create a new one",
    }


def test_signing_in_sets_a_session_cookie_and_a_lock_answers_429(
    auth_app: FastAPI, http_people: HttpPeople, clock: FrozenClock
) -> None:
    with TestClient(auth_app, raise_server_exceptions=False) as anon:
        wrong = anon.post("/api/v1/login", json={"username": "vic", "password": "wrong horse"})
        assert error(wrong) == (401, "unauthenticated")
        unknown = anon.post("/api/v1/login", json={"username": "nobody", "password": "x" * 8})
        assert wrong.json() == unknown.json()  # no hint which part was wrong
        good = anon.post("/api/v1/login", json={"username": "vic", "password": PASSWORD})
        assert good.status_code == 200 and set(good.json()) == {"token"}
        secret = good.json()["token"]
        assert anon.cookies.get("loopwise_session") == secret
        assert "httponly" in good.headers["set-cookie"].lower()
        assert anon.get("/api/v1/me").json()["username"] == "vic"  # via the cookie
        assert bearer(auth_app, secret).get("/api/v1/me").json()["username"] == "vic"

        for _ in range(5):
            anon.post("/api/v1/login", json={"username": "vic", "password": "wrong horse"})
        refused = anon.post("/api/v1/login", json={"username": "vic", "password": PASSWORD})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "30"
        assert refused.json() == {
            "error": {
                "code": "too_many_requests",
                "message": "too many failed sign-ins; try again in 30 seconds",
            }
        }


def test_refusals_are_403_for_members_and_404_for_outsiders(http_people: HttpPeople) -> None:
    people, http = http_people
    refused = http["vic"].post("/api/v1/projects/CHURN/runs", json={})
    assert error(refused) == (403, "permission_denied")
    assert "vic is viewer" in refused.json()["error"]["message"]
    hidden = http["olga"].get("/api/v1/projects/CHURN")
    missing = http["olga"].get("/api/v1/projects/NOSUCH")
    assert error(hidden) == error(missing) == (404, "not_found")
    assert hidden.json()["error"]["message"] == "project 'CHURN' not found"
    assert error(http["olga"].get(f"/api/v1/runs/{people.run_id}")) == (404, "not_found")
    assert error(http["alice"].get("/api/v1/users")) == (403, "permission_denied")

    members = http["alice"].get("/api/v1/projects/CHURN/members")
    assert members.status_code == 200 and len(members.json()) == 5
    put = http["alice"].put(
        "/api/v1/projects/CHURN/members", json={"username": "olga", "role": "viewer"}
    )
    assert put.status_code == 200
    assert (put.json()["username"], put.json()["role"]) == ("olga", "viewer")
    assert http["olga"].get("/api/v1/projects/CHURN").status_code == 200
    removed = http["alice"].delete("/api/v1/projects/CHURN/members/olga")
    assert removed.status_code == 204 and removed.content == b""
    assert error(http["olga"].get("/api/v1/projects/CHURN")) == (404, "not_found")
    user = http["root"].post("/api/v1/users", json={"username": "newbie", "password": "x" * 8})
    assert user.status_code == 201 and user.json()["username"] == "newbie"
    assert "newbie" in [u["username"] for u in http["root"].get("/api/v1/users").json()]


def test_tokens_over_http(auth_app: FastAPI, http_people: HttpPeople) -> None:
    _people, http = http_people
    carl = http["carl"]
    created = carl.post("/api/v1/tokens", json={"name": "ci", "expires_in": "90m"})
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"token", "secret"}
    token, secret = created.json()["token"], created.json()["secret"]
    assert token["expires_at"] == "2026-01-05T10:30:00Z"  # the frozen clock is 09:00
    assert token["last_used_at"] is None
    listed = carl.get("/api/v1/tokens")
    assert listed.status_code == 200 and secret not in listed.text
    assert {t["name"]: t["expires_at"] for t in listed.json()} == {
        "tests": None,
        "ci": "2026-01-05T10:30:00Z",
    }
    assert bearer(auth_app, secret).get("/api/v1/me").json()["username"] == "carl"
    for value in ("12", "", "3651d"):
        bad = carl.post("/api/v1/tokens", json={"name": "bad", "expires_in": value})
        assert error(bad) == (400, "invalid_input"), value
    revoked = carl.delete(f"/api/v1/tokens/{token['id']}")
    assert revoked.status_code == 204 and revoked.content == b""
    assert error(bearer(auth_app, secret).get("/api/v1/me")) == (401, "unauthenticated")
    assert error(http["vic"].delete(f"/api/v1/tokens/{token['id']}")) == (404, "not_found")


def test_local_mode_needs_no_token_and_acts_as_the_local_admin(api: TestClient) -> None:
    me = api.get("/api/v1/me").json()
    assert me["username"] == "local" and me["is_admin"] is True
    assert api.post("/api/v1/projects", json={"key": "LOC", "name": "Local"}).status_code == 201


# --- uploads are refused before their body is read -------------------------------------


class BodySpy:
    """The app, recording how many body bytes it read from the connection."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def spied() -> Message:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, spied, send)


def upload(http: TestClient, viewer: TestClient, run_id: str, door: str) -> Any:
    if door == "dataset":
        files = {"file": ("d.csv", b"a\n" + b"1\n" * 50_000, "text/csv")}
        return http.post("/api/v1/projects/CHURN/datasets/d/versions", files=files)
    if door == "native":
        url = f"/api/v1/runs/{run_id}/artifacts/a.txt"
    else:
        run = viewer.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id[4:]})
        exp = run.json()["run"]["info"]["experiment_id"]
        url = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{run_id[4:]}/artifacts/a.txt"
    return http.put(url, content=b"x" * 100_000)


@pytest.mark.parametrize("door", ["native", "mlflow", "dataset"])
def test_a_viewer_upload_is_refused_before_the_body_is_read(
    auth_app: FastAPI, http_people: HttpPeople, door: str
) -> None:
    people, clients = http_people
    spy = BodySpy(auth_app)
    root: Path = auth_app.state.loopwise.settings.resolved_artifact_root
    for name in ("vic", "carl"):
        spy.read = 0
        headers = {"Authorization": f"Bearer {people.secrets[name]}"}
        with TestClient(spy, headers=headers, raise_server_exceptions=False) as http:
            response = upload(http, clients["vic"], people.run_id, door)
        if name == "vic":
            assert response.status_code == 403, response.text
            assert spy.read == 0
            assert not [p for p in root.rglob("*") if p.is_file()]
        else:  # the spy does see a body that is read
            assert response.status_code in (200, 201), response.text
            assert spy.read >= 100_000
