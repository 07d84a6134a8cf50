"""People with different roles on one project, in auth mode."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from accounts_support import People, bearer, make_user
from fastapi import FastAPI

from loopwise.core.clock import FrozenClock
from loopwise.db.base import Base
from loopwise.slices import load_tables


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
        load_tables()
        with auth_app.state.loopwise.db.engine.connect() as conn:
            return {
                t.name: sorted(repr(tuple(r)) for r in conn.execute(sa.select(t)))
                for t in Base.metadata.sorted_tables
            }

    return take
