"""Runs: params (immutable), tags (upsert), listing with filters and pages, experiments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import Conflict

pytestmark = pytest.mark.store


@pytest.fixture
def project(client: Client) -> str:
    client.create_project("CHURN", "Churn")
    return "CHURN"


def test_params_are_immutable(client: Client, api: TestClient, project: str) -> None:
    run = client.create_run(project, params={"lr": 0.1, "depth": 6})
    assert run.params == {"depth": "6", "lr": "0.1"}
    # The same value again is fine (a retried request must not fail).
    client.log_params(run.id, {"lr": 0.1, "seed": 42})
    assert client.get_run(run.id).params == {"depth": "6", "lr": "0.1", "seed": "42"}

    with pytest.raises(Conflict, match="param 'lr' is already '0.1' on this run"):
        client.log_params(run.id, {"lr": 0.2})
    # All or nothing: a new param in the same request as a clash is not stored either.
    response = api.post(
        f"/api/v1/runs/{run.id}/params", json={"params": {"new": "1", "depth": "7"}}
    )
    assert response.status_code == 409
    assert client.get_run(run.id).params == {"depth": "6", "lr": "0.1", "seed": "42"}


def test_tags_are_upserted_and_deleted(client: Client, api: TestClient, project: str) -> None:
    run = client.create_run(project, tags={"team": "growth", "stage": "dev"})
    client.set_tags(run.id, {"stage": "prod", "owner": "ada"})
    assert client.get_run(run.id).tags == {"owner": "ada", "stage": "prod", "team": "growth"}
    assert api.delete(f"/api/v1/runs/{run.id}/tags/team").status_code == 204
    assert api.delete(f"/api/v1/runs/{run.id}/tags/never-set").status_code == 204
    assert client.get_run(run.id).tags == {"owner": "ada", "stage": "prod"}
    client.set_tags(run.id, {"stage": ""})  # empty values are values
    assert client.get_run(run.id).tags["stage"] == ""


def test_run_fields_round_trip(client: Client, api: TestClient, project: str) -> None:
    response = api.post(
        f"/api/v1/projects/{project}/runs",
        json={
            "name": "  gbm-1  ",
            "experiment": "tuning",
            "git_commit": "a" * 40,
            "start_time": "2026-01-01T12:00:00",  # naive: read as UTC
        },
    )
    assert response.status_code == 201, response.text
    run = client.get_run(response.json()["id"])
    assert run.name == "gbm-1"
    assert run.experiment_name == "tuning"
    assert run.git_commit == "a" * 40
    assert run.start_time == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert run.status == "running" and run.end_time is None
    assert run.project_key == project and run.id.startswith("run_")


def test_aware_start_time_is_converted_to_utc(api: TestClient, project: str) -> None:
    response = api.post(
        f"/api/v1/projects/{project}/runs", json={"start_time": "2026-01-01T12:00:00+02:00"}
    )
    assert response.json()["start_time"] == "2026-01-01T10:00:00Z"


def test_experiments_are_got_or_created(client: Client, api: TestClient, project: str) -> None:
    first = api.post(f"/api/v1/projects/{project}/experiments", json={"name": "tuning"})
    again = api.post(f"/api/v1/projects/{project}/experiments", json={"name": "tuning"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    run = client.create_run(project, experiment="tuning")
    assert run.experiment_id == first.json()["id"]
    client.create_run(project, experiment="baseline")
    client.create_run(project)  # the default experiment
    names = [e["name"] for e in api.get(f"/api/v1/projects/{project}/experiments").json()]
    assert names == ["Default", "baseline", "tuning"]
    # Same name in another project is another experiment.
    client.create_project("FRAUD", "Fraud")
    other = api.post("/api/v1/projects/FRAUD/experiments", json={"name": "tuning"}).json()
    assert other["id"] != first.json()["id"]


def test_list_runs_filters_orders_and_pages(
    client: Client, api: TestClient, project: str, clock: FrozenClock
) -> None:
    created = []
    for i in range(13):
        clock.advance(timedelta(minutes=1))
        run = client.create_run(project, experiment="a" if i % 3 else "b", name=f"r{i:02}")
        if i % 4 == 0:
            client.finish_run(run.id, "finished")
        elif i % 4 == 1:
            client.finish_run(run.id, "failed")
        created.append(run)
    # Two runs started at the same moment: the order must still be total and stable.
    clock.advance(timedelta(minutes=1))
    created.append(client.create_run(project, name="tie-1"))
    created.append(client.create_run(project, name="tie-2"))

    def names(**query: object) -> list[str]:
        response = api.get(f"/api/v1/projects/{project}/runs", params=query)
        assert response.status_code == 200, response.text
        return [r["name"] for r in response.json()]

    everything = names(limit=1000)
    assert sorted(everything) == sorted(r.name for r in created)
    assert everything[2:] == [f"r{i:02}" for i in reversed(range(13))]  # newest first
    assert set(everything[:2]) == {"tie-1", "tie-2"}

    for size in (1, 4, 5, 15, 16):
        pages = [names(limit=size, offset=o) for o in range(0, len(created) + size, size)]
        assert [n for page in pages for n in page] == everything, size
    assert names(offset=len(created)) == []

    assert names(experiment="b") == [f"r{i:02}" for i in reversed(range(13)) if i % 3 == 0]
    assert names(status="failed") == [f"r{i:02}" for i in reversed(range(13)) if i % 4 == 1]
    assert names(experiment="a", status="finished") == ["r08", "r04"]
    assert names(experiment="nope") == []
    # The SDK lists the same.
    assert [r.name for r in client.list_runs(project, experiment="b", limit=2)] == ["r12", "r09"]


def test_runs_of_other_projects_are_not_listed(client: Client, project: str) -> None:
    client.create_project("FRAUD", "Fraud")
    client.create_run("FRAUD", name="elsewhere")
    mine = client.create_run(project, name="mine")
    assert [r.id for r in client.list_runs(project)] == [mine.id]


def test_finish_run_statuses(client: Client, project: str, clock: FrozenClock) -> None:
    for status in ("finished", "failed", "killed"):
        run = client.create_run(project)
        clock.advance(timedelta(seconds=30))
        done = client.finish_run(run.id, status)
        assert (done.status, done.end_time) == (status, clock.now())
        with pytest.raises(Conflict, match=f"already ended as {status}"):
            client.finish_run(run.id, "finished" if status != "finished" else "killed")
