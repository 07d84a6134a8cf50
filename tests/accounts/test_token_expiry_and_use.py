"""API tokens: an optional expiry (``expires_in``) and a last-used time written at most
once a minute, never waiting for SQLite's write lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from accounts_support import bearer, make_user
from fastapi import FastAPI
from starlette.testclient import TestClient

import loopwise
from loopwise.accounts import service as accounts
from loopwise.accounts.tables import TokenRow
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import InvalidInput

pytestmark = pytest.mark.store


@pytest.fixture
def carl(auth_app: FastAPI, clock: FrozenClock) -> Iterator[TestClient]:
    with bearer(auth_app, make_user(auth_app, clock, "carl")) as http:
        yield http


def tokens_of(http: TestClient) -> dict[str, dict[str, Any]]:
    listed = http.get("/api/v1/tokens")
    assert listed.status_code == 200, listed.text
    return {t["name"]: t for t in listed.json()}


def test_a_token_with_expires_in_stops_working_and_says_it_expired(
    auth_app: FastAPI, carl: TestClient, clock: FrozenClock
) -> None:
    created = carl.post("/api/v1/tokens", json={"name": "ci", "expires_in": "90m"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert token["expires_at"] == "2026-01-05T10:30:00Z"  # the frozen clock is 09:00
    assert tokens_of(carl)["ci"]["expires_at"] == "2026-01-05T10:30:00Z"
    assert tokens_of(carl)["tests"]["expires_at"] is None  # no expires_in: never

    ci = bearer(auth_app, created.json()["secret"])
    clock.advance(timedelta(minutes=89))
    assert ci.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(minutes=1))
    expired = ci.get("/api/v1/me")
    assert expired.status_code == 401
    assert expired.json()["error"] == {
        "code": "unauthenticated",
        "message": "this token expired at 2026-01-05 10:30 UTC; create a new one",
    }
    assert tokens_of(carl)["ci"]["expires_at"] == "2026-01-05T10:30:00Z"


@pytest.mark.parametrize("value", ["3x", "0d", "12", "-5m", "1.5h", "30 days", "3651d"])
def test_a_bad_expires_in_is_400_and_creates_nothing(carl: TestClient, value: str) -> None:
    response = carl.post("/api/v1/tokens", json={"name": "bad", "expires_in": value})
    assert response.status_code == 400, (value, response.text)
    assert response.json()["error"]["code"] == "invalid_input"
    assert "bad" not in tokens_of(carl)


@pytest.fixture
def anon_login(auth_app: FastAPI, clock: FrozenClock) -> str:
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        accounts.create_user(session, clock, "vic", password="correct horse")
    with TestClient(auth_app) as http:
        response = http.post("/api/v1/login", json={"username": "vic", "password": "correct horse"})
    assert response.status_code == 200
    token: str = response.json()["token"]
    return token


def test_an_expired_session_says_sign_in_again(
    auth_app: FastAPI, anon_login: str, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=14))
    response = bearer(auth_app, anon_login).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "your session expired at 2026-01-19 09:00 UTC; sign in again"
    )


# --- last use --------------------------------------------------------------------------


def test_last_use_is_recorded_at_most_once_a_minute(carl: TestClient, clock: FrozenClock) -> None:
    # Creating the token through the fixture did not use it; listing tokens does.
    start = clock.now()
    assert tokens_of(carl)["tests"]["last_used_at"] == "2026-01-05T09:00:00Z"
    clock.advance(timedelta(seconds=59))
    assert tokens_of(carl)["tests"]["last_used_at"] == "2026-01-05T09:00:00Z"
    clock.advance(timedelta(seconds=1))
    assert tokens_of(carl)["tests"]["last_used_at"] == "2026-01-05T09:01:00Z"
    assert clock.now() - start == timedelta(minutes=1)


def test_a_new_token_has_no_last_use(carl: TestClient) -> None:
    created = carl.post("/api/v1/tokens", json={"name": "spare"})
    assert created.json()["token"]["last_used_at"] is None
    assert tokens_of(carl)["spare"]["last_used_at"] is None


class WriteCounter:
    """Counts write transactions the app opens (SQLite's write lock, PostgreSQL's writes)."""

    def __init__(self, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real_session, real_now = db.session, db.session_now

        @contextmanager
        def session(*, write: bool) -> Iterator[Any]:
            self.count += write
            with real_session(write=write) as s:
                yield s

        @contextmanager
        def session_now() -> Iterator[Any]:
            self.count += 1
            with real_now() as s:
                yield s

        monkeypatch.setattr(db, "session", session)
        monkeypatch.setattr(db, "session_now", session_now)


def test_reads_within_the_minute_open_no_write_transaction(
    auth_app: FastAPI, carl: TestClient, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert carl.get("/api/v1/me").status_code == 200  # records the first use
    writes = WriteCounter(auth_app.state.loopwise.db, monkeypatch)
    for _ in range(30):
        clock.advance(timedelta(seconds=1))
        assert carl.get("/api/v1/projects").status_code == 200
    assert writes.count == 0
    clock.advance(timedelta(seconds=30))
    assert carl.get("/api/v1/projects").status_code == 200
    assert writes.count == 1


def test_a_busy_sqlite_writer_is_not_waited_for(
    auth_app: FastAPI, carl: TestClient, clock: FrozenClock
) -> None:
    db = auth_app.state.loopwise.db
    if not db.is_sqlite:
        pytest.skip("SQLite's write lock; PostgreSQL writes the use in its own transaction")
    with db._write_lock:  # another request is writing
        assert carl.get("/api/v1/me").status_code == 200  # answered, not blocked
        assert last_used(auth_app) is None  # and its use not noted
    assert carl.get("/api/v1/me").status_code == 200
    assert last_used(auth_app) == clock.now()  # the next request noted it


def last_used(app: FastAPI) -> Any:
    with app.state.loopwise.db.engine.connect() as conn:
        return conn.execute(sa.select(TokenRow.last_used_at)).scalar_one()


def test_the_sdk_creates_a_token_with_an_expiry_and_lists_it(
    auth_app: FastAPI, carl: TestClient
) -> None:
    sdk = loopwise.Client(http=carl)
    secret = sdk.create_token("nightly", expires_in="12h")
    listed = {t.name: t for t in sdk.list_tokens()}
    assert listed["nightly"].expires_at == listed["nightly"].created_at + timedelta(hours=12)
    assert listed["tests"].last_used_at is not None and listed["nightly"].last_used_at is None
    assert loopwise.Client(http=bearer(auth_app, secret)).me()["username"] == "carl"
    with pytest.raises(InvalidInput, match="invalid duration '12'"):
        sdk.create_token("bad", expires_in="12")
