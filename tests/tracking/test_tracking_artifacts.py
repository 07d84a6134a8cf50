"""Artifacts: upload, list, download, confinement to the run's folder."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.store

BLOB = bytes(range(256)) * 33  # every byte value, 8448 bytes


@pytest.fixture
def run_id(client: Client) -> str:
    client.create_project("CHURN", "Churn")
    return client.create_run("CHURN").id


def test_upload_list_download_round_trip(app: FastAPI, api: TestClient, run_id: str) -> None:
    base = f"/api/v1/runs/{run_id}/artifacts"
    for path, content in [
        ("model/weights.bin", BLOB),
        ("model/config/params.json", b'{"lr": 0.1}'),
        ("report.txt", b"ok\n"),
        ("empty", b""),
    ]:
        response = api.put(f"{base}/{path}", content=content)
        assert response.status_code == 201, response.text
        assert response.json() == {"path": path, "size": len(content), "is_dir": False}

    assert api.get(base).json() == [
        {"path": "empty", "size": 0, "is_dir": False},
        {"path": "model", "size": 0, "is_dir": True},
        {"path": "report.txt", "size": 3, "is_dir": False},
    ]
    assert api.get(base, params={"path": "model"}).json() == [
        {"path": "model/config", "size": 0, "is_dir": True},
        {"path": "model/weights.bin", "size": len(BLOB), "is_dir": False},
    ]
    assert api.get(base, params={"path": "model/weights.bin"}).json() == [
        {"path": "model/weights.bin", "size": len(BLOB), "is_dir": False}
    ]
    download = api.get(f"{base}/model/weights.bin")
    assert download.status_code == 200
    assert download.content == BLOB
    assert api.get(f"{base}/empty").content == b""

    # Stored inside <artifact root>/<project id>/<run id>/, nowhere else.
    state = app.state.loopwise
    project_id = api.get(f"/api/v1/runs/{run_id}").json()["project_id"]
    folder = state.settings.resolved_artifact_root / project_id / run_id
    assert (folder / "model" / "weights.bin").read_bytes() == BLOB
    stored = sorted(
        str(p.relative_to(state.settings.resolved_artifact_root))
        for p in state.settings.resolved_artifact_root.rglob("*")
        if p.is_file()
    )
    assert stored == sorted(
        f"{project_id}/{run_id}/{p}"
        for p in ("model/weights.bin", "model/config/params.json", "report.txt", "empty")
    )


def test_uploading_again_replaces_the_file(api: TestClient, run_id: str) -> None:
    url = f"/api/v1/runs/{run_id}/artifacts/notes.txt"
    api.put(url, content=b"first version, longer")
    api.put(url, content=b"second")
    assert api.get(url).content == b"second"
    listed = api.get(f"/api/v1/runs/{run_id}/artifacts").json()
    assert listed == [{"path": "notes.txt", "size": 6, "is_dir": False}]


def test_missing_artifacts_are_404(client: Client, run_id: str) -> None:
    assert client.list_artifacts(run_id) == []
    with pytest.raises(NotFound, match="no artifact 'nope.txt'"):
        client.download_artifact(run_id, "nope.txt")
    with pytest.raises(NotFound, match="no artifact folder 'nope'"):
        client.list_artifacts(run_id, "nope")


def test_sdk_sends_odd_names_as_written(client: Client, run_id: str) -> None:
    # Regression: the SDK put paths into URLs unquoted, so "q?x" uploaded to "q".
    # ("%" in names is checked against the live server in tests/sdk: starlette's
    # TestClient decodes paths twice.)
    names = ["a b.txt", "dir/ünïcode.txt", "q?x.txt", "h#1.txt", "semi;colon"]
    for i, name in enumerate(names):
        info = client.upload_artifact(run_id, name, f"content {i}".encode())
        assert info.path == name
    for i, name in enumerate(names):
        assert client.download_artifact(run_id, name) == f"content {i}".encode()
    top = {a.path for a in client.list_artifacts(run_id)}
    assert top == {"a b.txt", "dir", "q?x.txt", "h#1.txt", "semi;colon"}


@pytest.mark.parametrize("path", ["../x", "a/../../x", "..", "/etc/x", "a\\..\\x"])
def test_sdk_gets_a_clear_error_for_escaping_paths(client: Client, run_id: str, path: str) -> None:
    # Regression: HTTP clients resolve "../" before sending, so the SDK used to send
    # "../x" somewhere else entirely and report a confusing "no such path".
    with pytest.raises(InvalidInput, match="artifact path"):
        client.upload_artifact(run_id, path, b"x")
    with pytest.raises(InvalidInput, match="artifact path"):
        client.download_artifact(run_id, path)


def test_literal_dot_dot_over_real_http_is_refused(
    app: FastAPI, live_server: object, run_id: str, tmp_path: Path
) -> None:
    """A client that sends "../" as-is (curl --path-as-is) reaches the server with it."""
    port = live_server.port  # type: ignore[attr-defined]
    root = app.state.loopwise.settings.resolved_artifact_root
    for raw_path in [
        f"/api/v1/runs/{run_id}/artifacts/../../../escaped.txt",
        f"/api/v1/runs/{run_id}/artifacts/a/../../../../escaped.txt",
        f"/api/v1/runs/{run_id}/artifacts/./../escaped.txt",
    ]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("PUT", raw_path, body=b"pwned")
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        assert response.status == 400, (raw_path, body)
        assert b"may not contain '..'" in body
    assert not list(tmp_path.rglob("escaped.txt"))
    assert not [p for p in root.parent.rglob("*") if p.is_file() and p.name == "escaped.txt"]
