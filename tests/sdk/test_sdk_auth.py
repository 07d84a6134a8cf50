"""The SDK against an auth-mode app: tokens, and refusals as library exceptions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import loopwise
from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated


def sdk(app: FastAPI, token: str | None) -> loopwise.Client:
    return loopwise.Client(http=TestClient(app, raise_server_exceptions=False), token=token)


@pytest.fixture
def secrets(auth_app: FastAPI) -> dict[str, str]:
    """Tokens of alice (who made CHURN, with one run), vic (a viewer) and olga (no role)."""
    state = auth_app.state.loopwise
    found = {}
    with state.db.session(write=True) as session:
        for name in ("alice", "vic", "olga"):
            user = accounts.create_user(session, state.clock, name)
            found[name] = accounts.create_token(session, state.clock, user.id, "tests")[1]
    alice = sdk(auth_app, found["alice"])
    alice.create_project("CHURN", "Churn")
    alice.set_member("CHURN", "vic", Role.VIEWER.value)
    found["run"] = alice.create_run("CHURN", params={"lr": 0.1}).id
    return found


def test_sdk_without_a_valid_token_raises_unauthenticated(
    auth_app: FastAPI, secrets: dict[str, str]
) -> None:
    with pytest.raises(Unauthenticated, match="invalid, expired or revoked token"):
        sdk(auth_app, "lwt_wrong").list_projects()


def test_a_viewer_cannot_write_through_the_sdk(auth_app: FastAPI, secrets: dict[str, str]) -> None:
    vic = sdk(auth_app, secrets["vic"])
    assert vic.get_project("CHURN").key == "CHURN"
    with pytest.raises(PermissionDenied, match="needs the contributor role"):
        vic.create_run("CHURN")
    with pytest.raises(PermissionDenied):  # noqa: SIM117
        with vic.start_run("CHURN"):
            pass
    with pytest.raises(PermissionDenied, match="needs the maintainer role"):
        vic.update_project("CHURN", phase="modeling")
    with pytest.raises(PermissionDenied):
        vic.log_metrics(secrets["run"], [{"key": "auc", "value": 0.9}])
    assert vic.get_run(secrets["run"]).metrics == {}


def test_an_outsider_sees_only_their_own_projects(
    auth_app: FastAPI, secrets: dict[str, str]
) -> None:
    olga = sdk(auth_app, secrets["olga"])
    olga.create_project("MINE", "Mine")
    assert [p.key for p in olga.list_projects()] == ["MINE"]
    with pytest.raises(NotFound, match="project 'CHURN' not found"):
        olga.get_project("CHURN")
    with pytest.raises(NotFound):
        olga.get_run(secrets["run"])


def test_the_sdk_creates_a_token_with_an_expiry_and_lists_it(
    auth_app: FastAPI, secrets: dict[str, str]
) -> None:
    alice = sdk(auth_app, secrets["alice"])
    secret = alice.create_token("nightly", expires_in="12h")
    listed = {t.name: t for t in alice.list_tokens()}
    assert listed["nightly"].expires_at == listed["nightly"].created_at + timedelta(hours=12)
    assert listed["tests"].last_used_at is not None and listed["nightly"].last_used_at is None
    assert sdk(auth_app, secret).me()["username"] == "alice"
    with pytest.raises(InvalidInput, match="invalid duration '12'"):
        alice.create_token("bad", expires_in="12")
