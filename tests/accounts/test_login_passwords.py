"""Signing in: argon2id hashes, scrypt hashes from before, equal work for unknown users,
and the rate limit at the doors (API and login page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import argon2
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import passwords
from loopwise.accounts import service as accounts
from loopwise.core.clock import FrozenClock

pytestmark = pytest.mark.store

PASSWORD = "correct horse"
# Made by Loopwise 0.1's own ``_hash_password`` (accounts/service.py at commit 6dc502d):
# scrypt n=2**14, r=8, p=1, 16-byte salt, 32-byte digest, of PASSWORD.
OLD_SCRYPT_HASH = (
    "scrypt$c76462f4bd89929d0df05d98d3afc44d$"
    "9974790b76556624634d829fb2b8091d6fb74edde7ad9945ae73884b4255cd74"
)


@pytest.fixture
def anon(auth_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(auth_app, raise_server_exceptions=False) as http:
        yield http


def add_user(app: FastAPI, username: str, password: str | None = PASSWORD) -> None:
    state = app.state.loopwise
    with state.db.session(write=True) as session:
        accounts.create_user(session, state.clock, username, password=password)


def stored_hash(app: FastAPI, username: str) -> str | None:
    with app.state.loopwise.db.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT password_hash FROM users WHERE username = :u"), {"u": username}
        ).scalar_one()


def set_stored_hash(app: FastAPI, username: str, value: str) -> None:
    with app.state.loopwise.db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET password_hash = :h WHERE username = :u"),
            {"h": value, "u": username},
        )


def login(http: TestClient, username: str, password: str = PASSWORD) -> int:
    return http.post("/api/v1/login", json={"username": username, "password": password}).status_code


# --- hashes ----------------------------------------------------------------------------


def test_new_passwords_are_hashed_with_argon2id(auth_app: FastAPI, anon: TestClient) -> None:
    add_user(auth_app, "vic")
    stored = stored_hash(auth_app, "vic")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert login(anon, "vic") == 200
    assert login(anon, "vic", "wrong horse") == 401


def test_an_old_scrypt_hash_still_signs_in_and_is_rehashed(
    auth_app: FastAPI, anon: TestClient
) -> None:
    add_user(auth_app, "vic", password=None)
    set_stored_hash(auth_app, "vic", OLD_SCRYPT_HASH)
    assert login(anon, "vic", "wrong horse") == 401
    assert stored_hash(auth_app, "vic") == OLD_SCRYPT_HASH  # a wrong password changes nothing

    assert login(anon, "vic") == 200
    rehashed = stored_hash(auth_app, "vic")
    assert rehashed is not None and rehashed.startswith("$argon2id$")
    assert passwords.verify(PASSWORD, rehashed) == passwords.Check(ok=True, needs_rehash=False)
    assert login(anon, "vic") == 200  # and signs in with the new hash


def test_an_argon2_hash_with_old_parameters_is_rehashed(
    auth_app: FastAPI, anon: TestClient
) -> None:
    add_user(auth_app, "vic", password=None)
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    set_stored_hash(auth_app, "vic", weak)
    assert login(anon, "vic") == 200
    rehashed = stored_hash(auth_app, "vic")
    assert rehashed is not None and rehashed != weak
    current = argon2.extract_parameters(passwords.hash_password("x"))
    assert argon2.extract_parameters(rehashed) == current


# --- the same work for unknown and known usernames --------------------------------------


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every hash verification the sign-in code performs: (scheme, stored hash)."""
    calls: list[tuple[str, str]] = []
    real_argon2, real_scrypt = passwords._argon2, passwords._scrypt

    def argon2_spy(stored: str, password: str) -> bool:
        calls.append(("argon2", stored))
        return real_argon2(stored, password)

    def scrypt_spy(stored: str, password: str) -> bool:
        calls.append(("scrypt", stored))
        return real_scrypt(stored, password)

    monkeypatch.setattr(passwords, "_argon2", argon2_spy)
    monkeypatch.setattr(passwords, "_scrypt", scrypt_spy)
    return calls


def test_unknown_and_passwordless_users_cost_one_verification_like_known_ones(
    auth_app: FastAPI, anon: TestClient, verified: list[tuple[str, str]]
) -> None:
    add_user(auth_app, "vic")
    add_user(auth_app, "tokenonly", password=None)
    known = stored_hash(auth_app, "vic")
    cases = [("vic", ("argon2", known)), ("nobody", ("argon2", passwords.dummy_hash())),
             ("tokenonly", ("argon2", passwords.dummy_hash()))]  # fmt: skip
    for username, expected in cases:
        verified.clear()
        assert login(anon, username, "wrong horse") == 401
        assert verified == [expected], username
    # The stand-in hash has the same argon2 parameters as a real one: the same cost.
    assert known is not None
    assert argon2.extract_parameters(passwords.dummy_hash()) == argon2.extract_parameters(known)


def test_a_wrong_password_for_an_old_scrypt_user_is_one_scrypt_check(
    auth_app: FastAPI, anon: TestClient, verified: list[tuple[str, str]]
) -> None:
    add_user(auth_app, "old", password=None)
    set_stored_hash(auth_app, "old", OLD_SCRYPT_HASH)
    assert login(anon, "old", "wrong horse") == 401
    assert verified == [("scrypt", OLD_SCRYPT_HASH)]


# --- the rate limit at the doors -------------------------------------------------------


def test_api_login_is_refused_with_429_after_five_failures_until_the_lock_ends(
    auth_app: FastAPI, anon: TestClient, clock: FrozenClock
) -> None:
    add_user(auth_app, "vic")
    for _ in range(5):
        assert login(anon, "vic", "wrong horse") == 401
    refused = anon.post("/api/v1/login", json={"username": "vic", "password": PASSWORD})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json() == {
        "error": {
            "code": "too_many_requests",
            "message": "too many failed sign-ins; try again in 30 seconds",
        }
    }
    clock.advance(timedelta(seconds=29))
    assert login(anon, "vic") == 429  # even the right password waits
    clock.advance(timedelta(seconds=1))
    assert login(anon, "vic") == 200
    # Success forgot the streak: five more tries before the next lock.
    for _ in range(5):
        assert login(anon, "vic", "wrong horse") == 401
    assert login(anon, "vic", "wrong horse") == 429


def test_login_page_shows_the_lock_with_429(auth_app: FastAPI, anon: TestClient) -> None:
    add_user(auth_app, "vic")
    form = {"username": "vic", "password": "wrong horse"}
    for _ in range(5):
        assert anon.post("/login", data=form).status_code == 401
    page = anon.post("/login", data={"username": "vic", "password": PASSWORD})
    assert page.status_code == 429 and page.headers["retry-after"] == "30"
    assert "Too many failed sign-ins; try again in 30 seconds." in page.text
    assert "loopwise_session" not in anon.cookies
