"""Fixtures of the governance tests: the default gates on (the shared settings turn them
off for the other slices' tests), services called as named users."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI

from loopwise.accounts import service as accounts
from loopwise.core.context import Actor, Context
from loopwise.core.settings import Settings
from loopwise.web.state import AppState

TEST_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")  # as tests/conftest.py
Opener = Callable[..., AbstractContextManager[Context]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        verdict_refresh_seconds=0,
        allowed_hosts=TEST_HOSTS,
    )


@pytest.fixture
def auth_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        auth=True,
        verdict_refresh_seconds=0,
        allowed_hosts=TEST_HOSTS,
    )


def _opener(state: AppState) -> Opener:
    @contextmanager
    def open_context(user: Actor | None = None) -> Iterator[Context]:
        with state.context(user or state.ensure_local_actor(), write=True) as ctx:
            yield ctx

    return open_context


@pytest.fixture
def write(app: FastAPI) -> Opener:
    """``with write() as ctx`` (the local user) or ``write(actor)``."""
    return _opener(app.state.loopwise)


@pytest.fixture
def auth_write(auth_app: FastAPI) -> Opener:
    return _opener(auth_app.state.loopwise)


@pytest.fixture
def users(auth_app: FastAPI) -> dict[str, Actor]:
    """admin (workspace admin), ana (author), max (maintainer), ada (admin): accounts only;
    memberships are given per test."""
    state: AppState = auth_app.state.loopwise
    out = {}
    with state.db.session(write=True) as session:
        for name in ("root", "ana", "max", "ada"):
            u = accounts.create_user(session, state.clock, name, is_admin=name == "root")
            out[name] = Actor(u.id, u.username, u.is_admin)
    return out
