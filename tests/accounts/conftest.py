"""People with different roles on one project, in auth mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import service as accounts
from loopwise.core.clock import FrozenClock
from loopwise.db.base import Base, import_all_tables

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


@pytest.fixture
def people(auth_app: FastAPI, clock: FrozenClock) -> Iterator[People]:
    """root: workspace admin. alice created CHURN (project admin) and granted a role to
    vic (viewer), carl (contributor), maia (maintainer), adam (admin); olga is in no
    project. CHURN has one run, logged by carl."""
    found = People(auth_app)
    found.secrets["root"] = make_user(auth_app, clock, "root", is_admin=True)
    for name in ("alice", "vic", "carl", "maia", "adam", "olga"):
        # Only vic gets a password (scrypt is slow on purpose): the login test uses it.
        password = "correct horse" if name == "vic" else None
        found.secrets[name] = make_user(auth_app, clock, name, password=password)
    for name, secret in found.secrets.items():
        found.http[name] = bearer(auth_app, secret)
    alice = found["alice"]
    assert alice.post("/api/v1/projects", json={"key": "CHURN", "name": "Churn"}).status_code == 201
    for name, role in [("vic", "viewer"), ("carl", "contributor"), ("maia", "maintainer"),
                       ("adam", "admin")]:  # fmt: skip
        response = alice.put(
            "/api/v1/projects/CHURN/members", json={"username": name, "role": role}
        )
        assert response.status_code == 200, response.text
    run = found["carl"].post("/api/v1/projects/CHURN/runs", json={"params": {"lr": "0.1"}})
    assert run.status_code == 201, run.text
    found.run_id = run.json()["id"]
    yield found
    for http in found.http.values():
        http.close()


@pytest.fixture
def table_snapshot(auth_app: FastAPI) -> Callable[[], dict[str, list[str]]]:
    """Every row of every table, to prove a refused request changed nothing."""

    def take() -> dict[str, list[str]]:
        import_all_tables()
        with auth_app.state.loopwise.db.engine.connect() as conn:
            return {
                t.name: sorted(repr(tuple(r)) for r in conn.execute(sa.select(t)))
                for t in Base.metadata.sorted_tables
            }

    return take
