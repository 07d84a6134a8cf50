"""API tokens and browser sessions, through the accounts use cases and the identity the
app holds (accounts.identity): only hashes are stored, revocation, expiry, sessions, and
a last-used time written at most once a minute without waiting for SQLite's write lock.
What the doors answer (401, the session cookie) is in test_accounts_api.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from accounts_support import PASSWORD, People, make_user
from pydantic import ValidationError

from loopwise.accounts import identity
from loopwise.accounts import service as accounts
from loopwise.accounts.models import TokenKind
from loopwise.accounts.schemas import TokenCreate
from loopwise.accounts.tables import TokenRow
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from loopwise.web.state import AppState
from use_cases import UseCases

pytestmark = pytest.mark.store


def token_rows(state: AppState) -> list[dict[str, Any]]:
    with state.db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text("SELECT * FROM api_tokens")).mappings()]


def test_tokens_are_stored_only_as_hashes(people: People) -> None:
    vic = people["vic"]
    _token, secret = vic(accounts.issue_token, TokenCreate(name="laptop"))
    assert secret.startswith("lwt_") and len(secret) > 40
    secrets = [*people.secrets.values(), secret]
    rows = token_rows(people.state)
    stored = " ".join(str(v) for row in rows for v in row.values())
    for s in secrets:
        assert s not in stored
        assert s[4:] not in stored  # not even without the prefix
    hashes = {row["token_hash"] for row in rows}
    assert {hashlib.sha256(s.encode()).hexdigest() for s in secrets} <= hashes
    # The secret is given once: listing tokens never holds it.
    listed = vic.read(accounts.tokens_of)
    assert secret not in repr(listed)
    assert {t.name for t in listed} == {"tests", "laptop"}
    # And the new token works.
    assert people.state.actor_for_secret(secret).username == "vic"


def test_a_revoked_token_stops_working(people: People) -> None:
    carl = people["carl"]
    token, secret = carl(accounts.issue_token, TokenCreate(name="ci"))
    assert people.state.actor_for_secret(secret).username == "carl"
    carl(accounts.revoke_token, token.id)
    with pytest.raises(Unauthenticated, match="invalid, expired or revoked token"):
        people.state.actor_for_secret(secret)
    # The user's other token is untouched.
    assert people.state.actor_for_secret(people.secrets["carl"]).username == "carl"


def test_only_the_owner_or_an_admin_can_revoke_a_token(people: People) -> None:
    token, secret = people["carl"](accounts.issue_token, TokenCreate(name="ci"))
    with pytest.raises(NotFound, match=f"token '{token.id}' not found"):
        people["vic"](accounts.revoke_token, token.id)
    assert people.state.actor_for_secret(secret).username == "carl"
    people["root"](accounts.revoke_token, token.id)
    with pytest.raises(Unauthenticated):
        people.state.actor_for_secret(secret)


def test_only_a_workspace_admin_makes_or_lists_tokens_for_someone_else(people: People) -> None:
    with pytest.raises(PermissionDenied, match="only a workspace admin"):
        people["alice"](accounts.issue_token, TokenCreate(name="x"), username="carl")
    with pytest.raises(PermissionDenied, match="only a workspace admin"):
        people["alice"].read(accounts.tokens_of, "carl")
    token, secret = people["root"](accounts.issue_token, TokenCreate(name="x"), username="carl")
    assert token.user_id == people.actors["carl"].user_id
    assert people.state.actor_for_secret(secret).username == "carl"
    assert {t.name for t in people["root"].read(accounts.tokens_of, "carl")} == {"tests", "x"}
    with pytest.raises(NotFound, match="user 'ghost' not found"):
        people["root"](accounts.issue_token, TokenCreate(name="x"), username="ghost")


def test_a_token_with_expires_in_stops_working_and_says_it_expired(
    people: People, clock: FrozenClock
) -> None:
    carl = people["carl"]
    token, secret = carl(accounts.issue_token, TokenCreate(name="ci", expires_in="90m"))
    assert token.expires_at == datetime(2026, 1, 5, 10, 30, tzinfo=UTC)  # the clock is 09:00
    listed = {t.name: t for t in carl.read(accounts.tokens_of)}
    assert listed["ci"].expires_at == token.expires_at
    assert listed["tests"].expires_at is None  # no expires_in: never
    clock.advance(timedelta(minutes=89))
    assert people.state.actor_for_secret(secret).username == "carl"
    clock.advance(timedelta(minutes=1))  # expires_at == now: expired
    with pytest.raises(Unauthenticated) as expired:
        people.state.actor_for_secret(secret)
    assert str(expired.value) == "this token expired at 2026-01-05 10:30 UTC; create a new one"
    assert {t.name: t for t in carl.read(accounts.tokens_of)}["ci"].expires_at == token.expires_at


@pytest.mark.parametrize("value", ["3x", "0d", "12", "-5m", "1.5h", "30 days", "3651d", ""])
def test_a_bad_expires_in_is_refused_and_creates_nothing(people: People, value: str) -> None:
    with pytest.raises(InvalidInput, match="duration"):
        people["carl"](accounts.issue_token, TokenCreate(name="bad", expires_in=value))
    assert "bad" not in {t.name for t in people["carl"].read(accounts.tokens_of)}
    with pytest.raises(ValidationError):
        TokenCreate(name="bad", expires_in="9" * 21)


def test_signing_in_gives_a_session_that_expires(state: AppState, clock: FrozenClock) -> None:
    make_user(state, clock, "vic", password=PASSWORD)
    throttle = identity.of(state).throttle

    def login(username: str, password: str) -> str:
        return accounts.login(state.db, clock, throttle, username, password, address="10.0.0.1")

    with pytest.raises(Unauthenticated) as wrong:
        login("vic", "wrong horse")
    with pytest.raises(Unauthenticated) as unknown:
        login("nobody", "x" * 8)
    assert str(wrong.value) == str(unknown.value) == "wrong username or password"  # no hint
    secret = login("vic", PASSWORD)
    assert secret.startswith("lws_")
    assert state.actor_for_secret(secret).username == "vic"
    (row,) = [r for r in token_rows(state) if r["token_hash"] == accounts._token_hash(secret)]
    assert row["kind"] == TokenKind.SESSION.value
    # Sessions are not API tokens: they are not listed as such.
    vic = UseCases(state, state.actor_for_secret(secret))
    assert [t.name for t in vic.read(accounts.tokens_of)] == ["tests"]
    clock.advance(timedelta(days=14))
    with pytest.raises(Unauthenticated) as expired:
        state.actor_for_secret(secret)
    assert str(expired.value) == "your session expired at 2026-01-19 09:00 UTC; sign in again"


# --- last use --------------------------------------------------------------------------


@pytest.fixture
def carl(state: AppState, clock: FrozenClock) -> str:
    """carl's token secret; the token has not been used yet."""
    _actor, secret = make_user(state, clock, "carl")
    return secret


def last_used(state: AppState) -> Any:
    with state.db.engine.connect() as conn:
        return conn.execute(sa.select(TokenRow.last_used_at)).scalar_one()


def test_last_use_is_recorded_at_most_once_a_minute(
    state: AppState, carl: str, clock: FrozenClock
) -> None:
    assert last_used(state) is None  # a new token has no last use
    start = clock.now()
    state.actor_for_secret(carl)
    assert last_used(state) == start
    clock.advance(timedelta(seconds=59))
    state.actor_for_secret(carl)
    assert last_used(state) == start
    clock.advance(timedelta(seconds=1))
    state.actor_for_secret(carl)
    assert last_used(state) == start + timedelta(minutes=1)
    (token,) = UseCases(state, state.actor_for_secret(carl)).read(accounts.tokens_of)
    assert token.last_used_at == start + timedelta(minutes=1)


class WriteCounter:
    """Counts write transactions opened on the database (SQLite's write lock, PostgreSQL's
    writes)."""

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


def test_uses_within_the_minute_open_no_write_transaction(
    state: AppState, carl: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.actor_for_secret(carl)  # records the first use
    writes = WriteCounter(state.db, monkeypatch)
    for _ in range(30):
        clock.advance(timedelta(seconds=1))
        assert state.actor_for_secret(carl).username == "carl"
    assert writes.count == 0
    clock.advance(timedelta(seconds=30))
    state.actor_for_secret(carl)
    assert writes.count == 1


def test_a_busy_sqlite_writer_is_not_waited_for(
    state: AppState, carl: str, clock: FrozenClock
) -> None:
    db = state.db
    if not db.is_sqlite:
        pytest.skip("SQLite's write lock; PostgreSQL writes the use in its own transaction")
    with db._write_lock:  # another request is writing
        assert state.actor_for_secret(carl).username == "carl"  # answered, not blocked
        assert last_used(state) is None  # and its use not noted
    state.actor_for_secret(carl)
    assert last_used(state) == clock.now()  # the next use noted it
