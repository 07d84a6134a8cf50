"""Signing in (``accounts.service.login`` with the identity's throttle): argon2id hashes,
scrypt hashes from before, equal work for unknown users, and the rate limit. How the
doors answer a locked sign-in (429 with Retry-After) is in test_accounts_api.py and
tests/web/test_web_login.py."""

from __future__ import annotations

from datetime import timedelta

import argon2
import pytest
import sqlalchemy as sa

from loopwise.accounts import identity, passwords
from loopwise.accounts import service as accounts
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import TooManyRequests, Unauthenticated
from loopwise.web.state import AppState

pytestmark = pytest.mark.store

PASSWORD = "correct horse"
# Made by Loopwise 0.1's own ``_hash_password`` (accounts/service.py at commit 6dc502d):
# scrypt n=2**14, r=8, p=1, 16-byte salt, 32-byte digest, of PASSWORD.
OLD_SCRYPT_HASH = (
    "scrypt$c76462f4bd89929d0df05d98d3afc44d$"
    "9974790b76556624634d829fb2b8091d6fb74edde7ad9945ae73884b4255cd74"
)


def add_user(state: AppState, username: str, password: str | None = PASSWORD) -> None:
    with state.db.session(write=True) as session:
        accounts.create_user(session, state.clock, username, password=password)


def stored_hash(state: AppState, username: str) -> str | None:
    with state.db.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT password_hash FROM users WHERE username = :u"), {"u": username}
        ).scalar_one()


def set_stored_hash(state: AppState, username: str, value: str) -> None:
    with state.db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET password_hash = :h WHERE username = :u"),
            {"h": value, "u": username},
        )


def login(state: AppState, username: str, password: str = PASSWORD) -> str:
    """What the API and the login page do: the use case with the identity's throttle.
    Returns "ok", "wrong" (Unauthenticated) or "locked" (TooManyRequests)."""
    throttle = identity.of(state).throttle
    try:
        accounts.login(state.db, state.clock, throttle, username, password, address="10.0.0.9")
    except Unauthenticated:
        return "wrong"
    except TooManyRequests:
        return "locked"
    return "ok"


# --- hashes ----------------------------------------------------------------------------


def test_new_passwords_are_hashed_with_argon2id(state: AppState) -> None:
    add_user(state, "vic")
    stored = stored_hash(state, "vic")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert login(state, "vic") == "ok"
    assert login(state, "vic", "wrong horse") == "wrong"


def test_an_old_scrypt_hash_still_signs_in_and_is_rehashed(state: AppState) -> None:
    add_user(state, "vic", password=None)
    set_stored_hash(state, "vic", OLD_SCRYPT_HASH)
    assert login(state, "vic", "wrong horse") == "wrong"
    assert stored_hash(state, "vic") == OLD_SCRYPT_HASH  # a wrong password changes nothing

    assert login(state, "vic") == "ok"
    rehashed = stored_hash(state, "vic")
    assert rehashed is not None and rehashed.startswith("$argon2id$")
    assert passwords.verify(PASSWORD, rehashed) == passwords.Check(ok=True, needs_rehash=False)
    assert login(state, "vic") == "ok"  # and signs in with the new hash


def test_an_argon2_hash_with_old_parameters_is_rehashed(state: AppState) -> None:
    add_user(state, "vic", password=None)
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    set_stored_hash(state, "vic", weak)
    assert login(state, "vic") == "ok"
    rehashed = stored_hash(state, "vic")
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
    state: AppState, verified: list[tuple[str, str]]
) -> None:
    add_user(state, "vic")
    add_user(state, "tokenonly", password=None)
    known = stored_hash(state, "vic")
    cases = [("vic", ("argon2", known)), ("nobody", ("argon2", passwords.dummy_hash())),
             ("tokenonly", ("argon2", passwords.dummy_hash()))]  # fmt: skip
    for username, expected in cases:
        verified.clear()
        assert login(state, username, "wrong horse") == "wrong"
        assert verified == [expected], username
    # The stand-in hash has the same argon2 parameters as a real one: the same cost.
    assert known is not None
    assert argon2.extract_parameters(passwords.dummy_hash()) == argon2.extract_parameters(known)


def test_a_wrong_password_for_an_old_scrypt_user_is_one_scrypt_check(
    state: AppState, verified: list[tuple[str, str]]
) -> None:
    add_user(state, "old", password=None)
    set_stored_hash(state, "old", OLD_SCRYPT_HASH)
    assert login(state, "old", "wrong horse") == "wrong"
    assert verified == [("scrypt", OLD_SCRYPT_HASH)]


# --- the rate limit at the doors -------------------------------------------------------


def test_sign_in_is_refused_after_five_failures_until_the_lock_ends(
    state: AppState, clock: FrozenClock
) -> None:
    add_user(state, "vic")
    for _ in range(5):
        assert login(state, "vic", "wrong horse") == "wrong"
    throttle = identity.of(state).throttle
    with pytest.raises(TooManyRequests) as refused:
        accounts.login(state.db, clock, throttle, "vic", PASSWORD, address="10.0.0.9")
    assert refused.value.retry_after == 30
    assert str(refused.value) == "too many failed sign-ins; try again in 30 seconds"
    clock.advance(timedelta(seconds=29))
    assert login(state, "vic") == "locked"  # even the right password waits
    clock.advance(timedelta(seconds=1))
    assert login(state, "vic") == "ok"
    # Success forgot the streak: five more tries before the next lock.
    for _ in range(5):
        assert login(state, "vic", "wrong horse") == "wrong"
    assert login(state, "vic", "wrong horse") == "locked"
