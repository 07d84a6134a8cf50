"""The login page's own answer to a locked sign-in: 429 with Retry-After and the lock in
words, and no session cookie. (The lock itself is tested in tests/accounts.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.accounts import service as accounts


@pytest.fixture
def anon(auth_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(auth_app, raise_server_exceptions=False) as http:
        yield http


def test_login_page_shows_the_lock_with_429(auth_app: FastAPI, anon: TestClient) -> None:
    state = auth_app.state.loopwise
    with state.db.session(write=True) as session:
        accounts.create_user(session, state.clock, "vic", password="correct horse")
    form = {"username": "vic", "password": "wrong horse"}
    for _ in range(5):
        assert anon.post("/login", data=form).status_code == 401
    page = anon.post("/login", data={"username": "vic", "password": "correct horse"})
    assert page.status_code == 429 and page.headers["retry-after"] == "30"
    assert "Too many failed sign-ins; try again in 30 seconds." in page.text
    assert "loopwise_session" not in anon.cookies
