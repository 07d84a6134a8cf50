"""The SDK against a real server: uvicorn on loopback, real HTTP, no test transport."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import pandas as pd
import pytest

import loopwise
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopwise.core.settings import Settings
from loopwise.planning.hypotheses.models import Verdict

pytestmark = pytest.mark.store


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The default host list (loopback and the bound address), as ``loopwise serve`` has."""
    return settings.model_copy(update={"allowed_hosts": ()})


@pytest.fixture
def remote(live_server: Any) -> Iterator[loopwise.Client]:
    with loopwise.Client(live_server.url) as client:
        yield client


def test_a_whole_experiment_over_http(remote: loopwise.Client, clock: FrozenClock) -> None:
    assert remote.me()["username"] == "local"
    remote.create_project("CHURN", "Churn", charter={"problem": "customers leave"})
    h = remote.create_hypothesis(
        "CHURN",
        "GBM beats the baseline",
        statement="A GBM reaches 0.8 AUC",
        metric="val_auc",
        threshold=0.8,
        time_box_end=clock.now() + timedelta(days=7),
    )
    blob = bytes(range(256)) * 100
    with remote.start_run("CHURN", hypothesis=h.item.key, params={"lr": 0.05}) as run:
        for epoch, auc in enumerate([0.61, 0.74, 0.83]):
            run.log_metrics({"val_auc": auc, "loss": 1 / (epoch + 1)})
        run.log_text("fine\n", "notes/pct%20 and space.txt")
        run.client.upload_artifact(run.id, "model.bin", blob)
        clock.advance(timedelta(hours=1))

    stored = remote.get_run(run.id)
    assert stored.status == "finished"
    assert stored.params == {"lr": "0.05"}
    assert [p.value for p in remote.metric_history(run.id, "val_auc")] == [0.61, 0.74, 0.83]
    assert remote.download_artifact(run.id, "model.bin") == blob
    # The name arrives exactly as written: "%20" is not decoded into a space.
    assert [a.path for a in remote.list_artifacts(run.id, "notes")] == [
        "notes/pct%20 and space.txt"
    ]
    assert remote.download_artifact(run.id, "notes/pct%20 and space.txt") == b"fine\n"

    after = remote.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.SUPPORTED
    assert (after.verdict_run_id, after.verdict_value) == (run.id, 0.83)
    events = [(e.kind, e.from_value, e.to_value) for e in remote.item_history(h.item.key)]
    assert ("verdict", "open", "supported") in events
    assert [r.id for r in remote.list_runs("CHURN")] == [run.id]


def test_errors_over_http_are_the_library_exceptions(remote: loopwise.Client) -> None:
    with pytest.raises(NotFound, match="project 'NOPE' not found"):
        remote.get_project("NOPE")
    remote.create_project("CHURN", "Churn")
    with pytest.raises(AlreadyExists, match="is taken") as caught:
        remote.create_project("CHURN", "Again")
    assert isinstance(caught.value, Conflict)  # callers catching Conflict still catch it
    run = remote.create_run("CHURN")
    with pytest.raises(InvalidInput, match="may not contain '..'"):
        remote.upload_artifact(run.id, "../../escape.txt", b"x")
    with pytest.raises(InvalidInput, match="malformed JSON|Input should be"):
        remote._request(
            "POST",
            f"/api/v1/runs/{run.id}/metrics",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )


def test_client_reads_the_url_from_the_environment(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOPWISE_URL", live_server.url)
    with loopwise.Client() as client:
        assert client.list_projects() == []
        client.create_project("ENV", "From the environment")
        assert [p.key for p in client.list_projects()] == ["ENV"]


def test_browser_attacks_are_refused_and_the_sdk_keeps_working(
    remote: loopwise.Client, live_server: Any
) -> None:
    """Over real HTTP: a foreign Origin on a JSON write, a raw artifact upload and a
    multipart upload, a text/plain body and a rebound Host are refused and change nothing;
    the SDK (no Origin, JSON and multipart bodies) does the same things."""
    base = live_server.url
    remote.create_project("SEC", "Security")
    run = remote.create_run("SEC")
    evil = {"origin": "https://evil.example"}
    attempts = [
        httpx.post(f"{base}/api/v1/projects", json={"key": "PWND", "name": "x"}, headers=evil),
        httpx.put(f"{base}/api/v1/runs/{run.id}/artifacts/x.html", content=b"x", headers=evil),
        httpx.post(
            f"{base}/api/v1/projects/SEC/datasets/rows/versions",
            files={"file": ("rows.csv", b"a\n1\n")},
            headers=evil,
        ),
    ]
    assert [r.status_code for r in attempts] == [403, 403, 403]
    assert {r.json()["error"]["code"] for r in attempts} == {"cross_site_refused"}
    plain = httpx.post(
        f"{base}/api/v1/projects",
        content=b'{"key": "PWND", "name": "x"}',
        headers={"content-type": "text/plain"},
    )
    assert plain.status_code == 415
    rebound = httpx.get(f"{base}/api/v1/projects", headers={"host": "evil.example"})
    assert rebound.status_code == 400
    assert [p.key for p in remote.list_projects()] == ["SEC"]
    assert remote.list_artifacts(run.id) == []
    assert httpx.get(f"{base}/api/v1/projects/SEC/datasets").json() == []

    remote.upload_artifact(run.id, "x.html", b"<script></script>")
    assert remote.download_artifact(run.id, "x.html") == b"<script></script>"
    registered = remote.register_dataset("SEC", "rows", pd.DataFrame({"a": [1, 2]}))
    assert registered.created
    datasets = httpx.get(f"{base}/api/v1/projects/SEC/datasets").json()
    assert [d["name"] for d in datasets] == ["rows"]
