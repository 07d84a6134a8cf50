"""Shared by the accounts tests: people with tokens, and how to call as them."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import service as accounts
from loopwise.core.clock import FrozenClock

ROLES = ["viewer", "contributor", "maintainer", "admin"]  # weakest first


@dataclass
class People:
    app: FastAPI
    secrets: dict[str, str] = field(default_factory=dict)
    http: dict[str, TestClient] = field(default_factory=dict)
    run_id: str = ""

    def __getitem__(self, username: str) -> TestClient:
        return self.http[username]


def make_user(
    app: FastAPI,
    clock: FrozenClock,
    username: str,
    *,
    is_admin: bool = False,
    password: str | None = None,
) -> str:
    """A user and an API token for them, straight through the service; returns the secret."""
    state = app.state.loopwise
    with state.db.session(write=True) as session:
        user = accounts.create_user(session, clock, username, password=password, is_admin=is_admin)
        _token, secret = accounts.create_token(session, clock, user.id, "tests")
    return secret


def bearer(app: FastAPI, secret: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False)
