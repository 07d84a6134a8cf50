"""The SDK's tracking calls in-process (SDK -> API -> service -> database): what it sends
and how it reads answers back. The tracking use cases themselves are tested directly in
tests/tracking."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from loopwise import Client
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import InvalidInput, NotFound


@pytest.fixture
def run_id(client: Client) -> str:
    client.create_project("CHURN", "Churn")
    return client.create_run("CHURN").id


def to_json(value: float) -> float | str:
    """How a caller sends a value: non-finite ones as the documented strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def test_list_runs_sends_its_filters(client: Client, run_id: str, clock: FrozenClock) -> None:
    for i in range(4):
        clock.advance(timedelta(minutes=1))
        client.create_run("CHURN", experiment="b" if i % 2 else "a", name=f"r{i}")
    assert [r.name for r in client.list_runs("CHURN", experiment="b", limit=1)] == ["r3"]
    assert [r.name for r in client.list_runs("CHURN", experiment="a")] == ["r2", "r0"]
    assert len(client.list_runs("CHURN")) == 5


def test_columns_round_trip_with_non_finite_values(client: Client, run_id: str) -> None:
    values = [0.5, float("nan"), float("inf"), -1.0, float("-inf")]
    assert client.log_metric_columns(run_id, "x", range(5), values, [10, 11, 12, 13, 14]) == 5
    cols = client.metric_columns(run_id, "x")
    assert cols["steps"] == [0, 1, 2, 3, 4] and cols["timestamps"] == [10, 11, 12, 13, 14]
    got = cols["values"]
    assert got[0] == 0.5 and math.isnan(got[1]) and got[2] == math.inf and got[4] == -math.inf
    assert client.get_run(run_id).metrics["x"].value == -math.inf  # the latest point


def test_non_finite_values_through_the_sdk(client: Client, run_id: str) -> None:
    run = client.get_run(run_id)
    # (-0.0 is left out: SQLite stores whole REAL values as integers and loses its sign.)
    sent = [math.nan, math.inf, -math.inf, 0.0, 5e-324, 1.7976931348623157e308]
    client.log_metrics(
        run.id, [{"key": "x", "value": to_json(v), "step": i} for i, v in enumerate(sent)]
    )
    got = [p.value for p in client.metric_history(run.id, "x")]
    assert math.isnan(got[0])
    assert got[1:] == sent[1:]
    assert client.get_run(run.id).metrics["x"].value == 1.7976931348623157e308


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
