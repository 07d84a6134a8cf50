"""Identity (accounts.identity): the local user of local mode, created once however many
callers ask for it at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from loopwise.core.context import Actor
from loopwise.web.state import AppState

pytestmark = pytest.mark.store


def test_concurrent_first_callers_share_one_local_user(state: AppState) -> None:
    # Regression: on PostgreSQL the first requests of a fresh server raced to create the
    # local user; the losers got a 500 (unique violation) or a 409.
    start = threading.Barrier(8)

    def first_call(_n: int) -> Actor:
        start.wait(timeout=30)
        return state.ensure_local_actor()

    with ThreadPoolExecutor(8) as pool:
        actors = list(pool.map(first_call, range(8)))  # re-raises any caller's error
    assert len(set(actors)) == 1
    assert actors[0].username == "local" and actors[0].is_admin
    with state.db.engine.connect() as conn:
        users = conn.execute(sa.text("SELECT username FROM users")).scalars().all()
    assert users == ["local"]
