"""People with different roles on one project: for the services (``people``) and, in
auth mode, over HTTP (``http_people``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from accounts_support import People, bearer, gather
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise.web.state import AppState


@pytest.fixture
def people(state: AppState) -> People:
    return gather(state)


@pytest.fixture
def http_people(auth_app: FastAPI) -> Iterator[tuple[People, dict[str, TestClient]]]:
    """The same people on the auth-mode app, each with an HTTP client sending their token."""
    found = gather(auth_app.state.loopwise)
    clients = {name: bearer(auth_app, secret) for name, secret in found.secrets.items()}
    yield found, clients
    for http in clients.values():
        http.close()
