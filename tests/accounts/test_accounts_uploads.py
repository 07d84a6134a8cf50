"""An upload is checked against the caller's role before its body is read: a viewer's
artifact is refused with 403 and not one byte of it reaches the server's disk, through
the native and the MLflow doors (auth mode)."""

from __future__ import annotations

from pathlib import Path

import pytest
from accounts_support import People
from fastapi import FastAPI
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

pytestmark = pytest.mark.store


class BodySpy:
    """The app, recording how many body bytes it read from the connection."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def spied() -> Message:
            message = await receive()
            self.read += len(message.get("body", b""))
            return message

        await self.app(scope, spied, send)


def upload_url(people: People, door: str) -> str:
    if door == "native":
        return f"/api/v1/runs/{people.run_id}/artifacts/a.txt"
    run = people["vic"].get("/api/2.0/mlflow/runs/get", params={"run_id": people.run_id[4:]})
    exp = run.json()["run"]["info"]["experiment_id"]
    return f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{people.run_id[4:]}/artifacts/a.txt"


@pytest.mark.parametrize("door", ["native", "mlflow"])
def test_a_viewer_upload_is_refused_before_the_body_is_read(
    auth_app: FastAPI, people: People, door: str
) -> None:
    url = upload_url(people, door)
    spy = BodySpy(auth_app)
    root: Path = auth_app.state.loopwise.settings.resolved_artifact_root
    for name, status in (("vic", 403), ("carl", (201, 200))):
        spy.read = 0
        headers = {"Authorization": f"Bearer {people.secrets[name]}"}
        with TestClient(spy, headers=headers, raise_server_exceptions=False) as http:
            response = http.put(url, content=b"x" * 100_000)
        if name == "vic":
            assert response.status_code == 403, response.text
            assert spy.read == 0
            assert not [p for p in root.rglob("*") if p.is_file()]
        else:  # the spy does see a body that is read
            assert response.status_code in status, response.text
            assert spy.read == 100_000
