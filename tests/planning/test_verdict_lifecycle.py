"""The stored verdict follows the evidence: run events, links, and the time-box sweep.

Everything goes through the SDK (in-process: SDK -> API -> service -> database) and the
raw API for the item history, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.app import run_job
from loopwise.core.clock import FrozenClock
from loopwise.planning.hypotheses.models import Hypothesis, Verdict
from loopwise.slices import periodic

pytestmark = pytest.mark.store


@pytest.fixture
def project(client: Client) -> str:
    client.create_project("CHURN", "Churn model")
    return "CHURN"


def make_hypothesis(client: Client, clock: FrozenClock, **fields: Any) -> Hypothesis:
    fields.setdefault("time_box_end", clock.now() + timedelta(days=7))
    return client.create_hypothesis(
        "CHURN",
        "Gradient boosting beats the baseline",
        statement="A tuned GBM reaches 0.8 validation AUC",
        metric="val_auc",
        threshold=0.8,
        **fields,
    )


def verdict_events(api: TestClient, key: str) -> list[tuple[str, str]]:
    response = api.get(f"/api/v1/items/{key}/history")
    assert response.status_code == 200, response.text
    return [(e["from_value"], e["to_value"]) for e in response.json() if e["kind"] == "verdict"]


def test_new_hypothesis_is_open(client: Client, project: str, clock: FrozenClock) -> None:
    h = make_hypothesis(client, clock)
    assert h.verdict is Verdict.OPEN
    assert h.item.key == "CHURN-1"
    assert h.verdict_reason == "no finished run yet; needs val_auc >= 0.8"
    assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN


def test_verdict_follows_a_linked_run_when_it_finishes(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    with client.start_run(project, hypothesis=h.item.key, name="gbm") as run:
        run.log_metric("val_auc", 0.70)
        run.log_metric("val_auc", 0.86)
        run.flush()
        # Still running: a good value does not count yet.
        assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN
        clock.advance(timedelta(hours=2))
    after = client.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.SUPPORTED
    assert after.verdict_run_id == run.id
    assert after.verdict_value == 0.86
    assert after.verdict_at == clock.now()
    assert after.verdict_reason == f"run {run.id} reached val_auc = 0.86 >= 0.8"
    assert [(e.run_id, e.status, e.value) for e in after.evidence] == [(run.id, "finished", 0.86)]
    assert verdict_events(api, h.item.key) == [("open", "supported")]


def test_the_latest_value_counts_not_the_best(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    with client.start_run(project, hypothesis=h.item.key) as run:
        run.log_metric("val_auc", 0.95)  # step 0
        run.log_metric("val_auc", 0.60)  # step 1: the latest
    after = client.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.OPEN
    assert after.evidence[0].value == 0.60
    assert verdict_events(api, h.item.key) == []


def test_linking_a_run_after_it_finished_updates_the_verdict(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    with client.start_run(project) as run:
        run.log_metric("val_auc", 0.91)
    assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN
    clock.advance(timedelta(minutes=5))
    linked = client.link_run(h.item.key, run.id)
    assert linked.verdict is Verdict.SUPPORTED
    assert linked.verdict_run_id == run.id
    # Decided when the run finished, not when it was linked.
    assert linked.verdict_at == clock.now() - timedelta(minutes=5)
    history = api.get(f"/api/v1/items/{h.item.key}/history").json()
    kinds = [
        (e["kind"], e["from_value"], e["to_value"])
        for e in history
        if e["kind"] in ("run_linked", "verdict")
    ]
    assert kinds == [("run_linked", None, run.id), ("verdict", "open", "supported")]
    assert history[-1]["note"] == f"run {run.id} reached val_auc = 0.91 >= 0.8"
    assert history[-1]["actor"] is None  # the system, not the caller


def sweep_verdicts(state: object) -> int:
    """The server's time-box sweep, as the planning slice declares it."""
    (sweep,) = [job for job in periodic() if job.name == "time-box sweep"]
    assert sweep.every_setting == "verdict_refresh_seconds"
    return run_job(state, sweep)  # type: ignore[arg-type]


def test_time_box_passing_refutes_through_the_sweep(
    app: FastAPI, client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    end = clock.now() + timedelta(days=2)
    h = make_hypothesis(client, clock, time_box_end=end)
    with client.start_run(project, hypothesis=h.item.key) as run:
        run.log_metric("val_auc", 0.75)
    state = app.state.loopwise
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert sweep_verdicts(state) == 0
    assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN

    clock.advance(timedelta(seconds=1))  # exactly the time-box end
    # Stored verdicts change only when something re-judges them.
    assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN
    assert sweep_verdicts(state) == 1
    after = client.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.REFUTED
    assert after.verdict_at == end
    assert (after.verdict_run_id, after.verdict_value) == (run.id, 0.75)
    assert after.verdict_reason.startswith("time-box ended 2026-01-07 09:00 UTC")
    assert verdict_events(api, h.item.key) == [("open", "refuted")]

    clock.advance(timedelta(days=30))
    assert sweep_verdicts(state) == 0
    assert verdict_events(api, h.item.key) == [("open", "refuted")]


def test_sweep_only_touches_hypotheses_whose_time_box_passed(
    app: FastAPI, client: Client, project: str, clock: FrozenClock
) -> None:
    soon = make_hypothesis(client, clock, time_box_end=clock.now() + timedelta(hours=1))
    later = make_hypothesis(client, clock, time_box_end=clock.now() + timedelta(days=9))
    unbounded = make_hypothesis(client, clock, time_box_end=None)
    clock.advance(timedelta(hours=1))
    assert sweep_verdicts(app.state.loopwise) == 1
    verdicts = {h.item.key: h.verdict for h in client.list_hypotheses(project)}
    assert verdicts == {
        soon.item.key: Verdict.REFUTED,
        later.item.key: Verdict.OPEN,
        unbounded.item.key: Verdict.OPEN,
    }


def test_a_run_that_raises_is_marked_failed_and_does_not_support(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    with pytest.raises(RuntimeError, match="out of memory"):  # noqa: SIM117
        with client.start_run(project, hypothesis=h.item.key) as run:
            run.log_metric("val_auc", 0.99)
            raise RuntimeError("out of memory")
    stored = client.get_run(run.id)
    assert stored.status == "failed"
    assert stored.end_time == clock.now()
    assert stored.metrics["val_auc"].value == 0.99  # buffered points were still sent
    after = client.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.OPEN
    assert after.evidence[0].status == "failed"
    assert verdict_events(api, h.item.key) == []


def test_a_run_finishing_after_the_time_box_does_not_count(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock, time_box_end=clock.now() + timedelta(hours=1))
    with client.start_run(project, hypothesis=h.item.key) as run:
        run.log_metric("val_auc", 0.99)
        clock.advance(timedelta(hours=1, seconds=1))
    after = client.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.REFUTED
    assert after.verdict_run_id is None
    assert "no finished run yet" in after.verdict_reason
    assert verdict_events(api, h.item.key) == [("open", "refuted")]


def test_kill_criterion_refutes_after_n_runs(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock, kill_after_runs=2, kill_threshold=0.7)
    for value in (0.55, 0.65):
        clock.advance(timedelta(hours=1))
        with client.start_run(project, hypothesis=h.item.key) as run:
            run.log_metric("val_auc", value)
        if value == 0.55:
            assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN
    after = client.get_hypothesis(h.item.key)
    assert after.verdict is Verdict.REFUTED
    assert (after.verdict_run_id, after.verdict_value) == (run.id, 0.65)
    assert after.verdict_reason == (
        "kill criterion met: 2 finished runs, best 0.65, none reached val_auc >= 0.7"
    )
    assert verdict_events(api, h.item.key) == [("open", "refuted")]


def test_metrics_logged_after_the_run_finished_are_evidence_too(
    client: Client, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    with client.start_run(project, hypothesis=h.item.key) as run:
        run.log_metric("val_auc", 0.5)
    assert client.get_hypothesis(h.item.key).verdict is Verdict.OPEN
    client.log_metrics(run.id, [{"key": "val_auc", "value": 0.9, "step": 10}])
    assert client.get_hypothesis(h.item.key).verdict is Verdict.SUPPORTED


def test_unlinking_the_evidence_reopens_and_is_recorded(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    with client.start_run(project, hypothesis=h.item.key) as run:
        run.log_metric("val_auc", 0.9)
    assert client.get_hypothesis(h.item.key).verdict is Verdict.SUPPORTED
    response = api.delete(f"/api/v1/hypotheses/{h.item.key}/runs/{run.id}")
    assert response.status_code == 200, response.text
    assert response.json()["verdict"] == "open"
    assert verdict_events(api, h.item.key) == [("open", "supported"), ("supported", "open")]


def test_finishing_a_run_twice_does_not_move_its_end(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    # Regression: a repeated "finished" used to move end_time to now, which could push a
    # supporting run past the time-box end and flip a decided verdict.
    h = make_hypothesis(client, clock, time_box_end=clock.now() + timedelta(hours=1))
    with client.start_run(project, hypothesis=h.item.key) as run:
        run.log_metric("val_auc", 0.9)
    first_end = client.get_run(run.id).end_time
    clock.advance(timedelta(hours=3))
    again = client.finish_run(run.id, "finished")
    assert again.end_time == first_end
    assert client.get_hypothesis(h.item.key).verdict is Verdict.SUPPORTED
    assert verdict_events(api, h.item.key) == [("open", "supported")]


def test_runs_from_another_project_cannot_be_evidence(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(client, clock)
    client.create_project("FRAUD", "Fraud")
    with client.start_run("FRAUD") as run:
        run.log_metric("val_auc", 0.99)
    response = api.post(f"/api/v1/hypotheses/{h.item.key}/runs", json={"run_id": run.id})
    assert response.status_code == 400
    assert "belongs to project FRAUD" in response.json()["error"]["message"]
    assert client.get_hypothesis(h.item.key).evidence == ()
