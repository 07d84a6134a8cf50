"""An upload is checked against the caller's role before its body is read: a viewer's
artifact or dataset file is refused with 403 and not one byte of it reaches the server,
through the native and the MLflow artifact doors and the dataset API (auth mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def upload(http: TestClient, people: People, door: str) -> Any:
    if door == "dataset":
        files = {"file": ("d.csv", b"a\n" + b"1\n" * 50_000, "text/csv")}
        return http.post("/api/v1/projects/CHURN/datasets/d/versions", files=files)
    if door == "native":
        url = f"/api/v1/runs/{people.run_id}/artifacts/a.txt"
    else:
        run = people["vic"].get("/api/2.0/mlflow/runs/get", params={"run_id": people.run_id[4:]})
        exp = run.json()["run"]["info"]["experiment_id"]
        url = f"/api/2.0/mlflow-artifacts/artifacts/{exp}/{people.run_id[4:]}/artifacts/a.txt"
    return http.put(url, content=b"x" * 100_000)


@pytest.mark.parametrize("door", ["native", "mlflow", "dataset"])
def test_a_viewer_upload_is_refused_before_the_body_is_read(
    auth_app: FastAPI, people: People, door: str
) -> None:
    spy = BodySpy(auth_app)
    root: Path = auth_app.state.loopwise.settings.resolved_artifact_root
    for name in ("vic", "carl"):
        spy.read = 0
        headers = {"Authorization": f"Bearer {people.secrets[name]}"}
        with TestClient(spy, headers=headers, raise_server_exceptions=False) as http:
            response = upload(http, people, door)
        if name == "vic":
            assert response.status_code == 403, response.text
            assert spy.read == 0
            assert not [p for p in root.rglob("*") if p.is_file()]
        else:  # the spy does see a body that is read
            assert response.status_code in (200, 201), response.text
            assert spy.read >= 100_000
