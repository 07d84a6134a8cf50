"""Shared by the accounts tests: people with roles on one project, a snapshot of every
stored row, and how to call as someone through the services or over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.accounts.schemas import MemberSet
from loopwise.core.clock import Clock
from loopwise.core.context import Actor
from loopwise.db.base import Base
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.slices import load_tables
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import RunCreate
from loopwise.web.state import AppState
from use_cases import UseCases

ROLES = ["viewer", "contributor", "maintainer", "admin"]  # weakest first
PASSWORD = "correct horse"


@dataclass
class People:
    """root: workspace admin. alice created CHURN (project admin) and granted a role to
    vic (viewer), carl (contributor), maia (maintainer), adam (admin); olga is in no
    project. CHURN has one run, logged by carl. Each has an API token (``secrets``)."""

    state: AppState
    actors: dict[str, Actor] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    run_id: str = ""

    def __getitem__(self, username: str) -> UseCases:
        """Use cases called as this person."""
        return UseCases(self.state, self.actors[username])


def make_user(
    state: AppState,
    clock: Clock,
    username: str,
    *,
    is_admin: bool = False,
    password: str | None = None,
) -> tuple[Actor, str]:
    """A user and an API token for them, straight through the service."""
    with state.db.session(write=True) as session:
        user = accounts.create_user(session, clock, username, password=password, is_admin=is_admin)
        _token, secret = accounts.create_token(session, clock, user.id, "tests")
    return Actor(user.id, user.username, user.is_admin), secret


def gather(state: AppState) -> People:
    found = People(state)
    for name in ("root", "alice", "vic", "carl", "maia", "adam", "olga"):
        # Only vic gets a password (hashing is slow on purpose): the login tests use it.
        password = PASSWORD if name == "vic" else None
        actor, secret = make_user(
            state, state.clock, name, is_admin=name == "root", password=password
        )
        found.actors[name], found.secrets[name] = actor, secret
    alice = found["alice"]
    alice(projects.create_project, ProjectCreate(key="CHURN", name="Churn"))
    for name, role in [("vic", Role.VIEWER), ("carl", Role.CONTRIBUTOR),
                       ("maia", Role.MAINTAINER), ("adam", Role.ADMIN)]:  # fmt: skip
        alice(projects.set_member, "CHURN", MemberSet(username=name, role=role))
    found.run_id = found["carl"](tracking.create_run, "CHURN", RunCreate(params={"lr": "0.1"})).id
    return found


def snapshot(state: AppState) -> dict[str, list[str]]:
    """Every row of every table, to prove a refused use case changed nothing."""
    load_tables()
    with state.db.engine.connect() as conn:
        return {
            t.name: sorted(repr(tuple(r)) for r in conn.execute(sa.select(t)))
            for t in Base.metadata.sorted_tables
        }


def bearer(app: FastAPI, secret: str | None) -> TestClient:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False)
