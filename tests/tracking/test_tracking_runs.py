"""Runs: params (immutable), tags (upsert), listing with filters and pages, experiments.

The tracking service called directly, with the schemas the API validates; what only the
REST door does (query parameters, status codes, the JSON form of times) is in
test_tracking_api.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loopwise.core.clock import FrozenClock
from loopwise.core.errors import Conflict
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.tracking import service as tracking
from loopwise.tracking.models import RunStatus
from loopwise.tracking.schemas import RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


def test_params_are_immutable(do: UseCases, project: str) -> None:
    run = do(tracking.create_run, project, RunCreate(params={"lr": "0.1", "depth": "6"}))
    assert run.params == {"depth": "6", "lr": "0.1"}
    # The same value again is fine (a retried request must not fail).
    do(tracking.log_params, run.id, {"lr": "0.1", "seed": "42"})
    assert do.read(tracking.get_run, run.id).params == {"depth": "6", "lr": "0.1", "seed": "42"}

    with pytest.raises(Conflict, match="param 'lr' is already '0.1' on this run"):
        do(tracking.log_params, run.id, {"lr": "0.2"})
    # All or nothing: a new param in the same call as a clash is not stored either.
    with pytest.raises(Conflict, match="param 'depth' is already '6'"):
        do(tracking.log_params, run.id, {"new": "1", "depth": "7"})
    assert do.read(tracking.get_run, run.id).params == {"depth": "6", "lr": "0.1", "seed": "42"}


def test_tags_are_upserted_and_deleted(do: UseCases, project: str) -> None:
    run = do(tracking.create_run, project, RunCreate(tags={"team": "growth", "stage": "dev"}))
    do(tracking.set_tags, run.id, {"stage": "prod", "owner": "ada"})
    assert do.read(tracking.get_run, run.id).tags == {
        "owner": "ada",
        "stage": "prod",
        "team": "growth",
    }
    do(tracking.delete_tag, run.id, "team")
    do(tracking.delete_tag, run.id, "never-set")  # nothing to delete is not an error
    assert do.read(tracking.get_run, run.id).tags == {"owner": "ada", "stage": "prod"}
    do(tracking.set_tags, run.id, {"stage": ""})  # empty values are values
    assert do.read(tracking.get_run, run.id).tags["stage"] == ""


def test_run_fields_round_trip(do: UseCases, project: str) -> None:
    body = RunCreate.model_validate(
        {
            "name": "  gbm-1  ",
            "experiment": "tuning",
            "git_commit": "a" * 40,
            "start_time": "2026-01-01T12:00:00",  # naive: read as UTC
        }
    )
    created = do(tracking.create_run, project, body)
    run = do.read(tracking.get_run, created.id)
    assert run == created
    assert run.name == "gbm-1"
    assert run.experiment_name == "tuning"
    assert run.git_commit == "a" * 40
    assert run.start_time == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert run.status is RunStatus.RUNNING and run.end_time is None
    assert run.project_key == project and run.id.startswith("run_")


def test_aware_start_time_is_converted_to_utc(do: UseCases, project: str) -> None:
    body = RunCreate.model_validate({"start_time": "2026-01-01T12:00:00+02:00"})
    assert body.start_time == datetime(2026, 1, 1, 10, tzinfo=UTC)
    run = do(tracking.create_run, project, body)
    assert do.read(tracking.get_run, run.id).start_time == datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_experiments_are_got_or_created(do: UseCases, project: str) -> None:
    first = do(tracking.get_or_create_experiment, project, "tuning")
    again = do(tracking.get_or_create_experiment, project, "tuning")
    assert first.id == again.id
    run = do(tracking.create_run, project, RunCreate(experiment="tuning"))
    assert run.experiment_id == first.id
    do(tracking.create_run, project, RunCreate(experiment="baseline"))
    do(tracking.create_run, project, RunCreate())  # the default experiment
    names = [e.name for e in do.read(tracking.list_experiments, project)]
    assert names == ["Default", "baseline", "tuning"]
    # Same name in another project is another experiment.
    do(projects.create_project, ProjectCreate(key="FRAUD", name="Fraud"))
    other = do(tracking.get_or_create_experiment, "FRAUD", "tuning")
    assert other.id != first.id


def test_list_runs_filters_orders_and_pages(do: UseCases, project: str, clock: FrozenClock) -> None:
    created = []
    for i in range(13):
        clock.advance(timedelta(minutes=1))
        body = RunCreate(experiment="a" if i % 3 else "b", name=f"r{i:02}")
        run = do(tracking.create_run, project, body)
        if i % 4 == 0:
            do(tracking.finish_run, run.id, RunFinish(status=RunStatus.FINISHED))
        elif i % 4 == 1:
            do(tracking.finish_run, run.id, RunFinish(status=RunStatus.FAILED))
        created.append(run)
    # Two runs started at the same moment: the order must still be total and stable.
    clock.advance(timedelta(minutes=1))
    created.append(do(tracking.create_run, project, RunCreate(name="tie-1")))
    created.append(do(tracking.create_run, project, RunCreate(name="tie-2")))

    def names(**query: object) -> list[str]:
        return [r.name for r in do.read(tracking.list_runs, project, **query)]

    everything = names(limit=1000)
    assert sorted(everything) == sorted(r.name for r in created)
    assert everything[2:] == [f"r{i:02}" for i in reversed(range(13))]  # newest first
    assert set(everything[:2]) == {"tie-1", "tie-2"}

    for size in (1, 4, 5, 15, 16):
        pages = [names(limit=size, offset=o) for o in range(0, len(created) + size, size)]
        assert [n for page in pages for n in page] == everything, size
    assert names(offset=len(created)) == []

    assert names(experiment="b") == [f"r{i:02}" for i in reversed(range(13)) if i % 3 == 0]
    failed = RunStatus.FAILED
    assert names(status=failed) == [f"r{i:02}" for i in reversed(range(13)) if i % 4 == 1]
    assert names(experiment="a", status=RunStatus.FINISHED) == ["r08", "r04"]
    assert names(experiment="nope") == []
    assert names(experiment="b", limit=2) == ["r12", "r09"]


def test_runs_of_other_projects_are_not_listed(do: UseCases, project: str) -> None:
    do(projects.create_project, ProjectCreate(key="FRAUD", name="Fraud"))
    do(tracking.create_run, "FRAUD", RunCreate(name="elsewhere"))
    mine = do(tracking.create_run, project, RunCreate(name="mine"))
    assert [r.id for r in do.read(tracking.list_runs, project)] == [mine.id]


def test_finish_run_statuses(do: UseCases, project: str, clock: FrozenClock) -> None:
    for status in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED):
        run = do(tracking.create_run, project, RunCreate())
        clock.advance(timedelta(seconds=30))
        done = do(tracking.finish_run, run.id, RunFinish(status=status))
        assert (done.status, done.end_time) == (status, clock.now())
        other = RunStatus.FINISHED if status is not RunStatus.FINISHED else RunStatus.KILLED
        with pytest.raises(Conflict, match=f"already ended as {status}"):
            do(tracking.finish_run, run.id, RunFinish(status=other))
