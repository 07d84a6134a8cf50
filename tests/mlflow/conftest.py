"""The real ``mlflow`` client (a test extra) against a live Loopwise server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import mlflow  # the test extra installs it: missing is a failure, not a skip
from loopwise.core.settings import Settings

# mlflow's own import-time and runtime warnings are not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The default host list (loopback and the bound address), as ``loopwise serve`` has:
    the unmodified client must work with every browser guard on."""
    return settings.model_copy(update={"allowed_hosts": ()})


@pytest.fixture
def tracking_uri(live_server, monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail fast, never retry
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.chdir(tmp_path)  # the client may write scratch files
    mlflow.set_tracking_uri(live_server.url)
    mlflow.set_registry_uri(live_server.url)
    yield live_server.url
    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def api(app: FastAPI) -> Iterator[TestClient]:
    """Raw HTTP to the app as the mlflow client addresses it: by a loopback name (the
    default host list of ``settings`` above refuses TestClient's "testserver")."""
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
        yield http
