"""The SDK in-process (SDK -> API -> service -> database): ``start_run`` and friends."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from loopwise import ActiveRun, Client
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.store


@pytest.fixture
def project(client: Client) -> str:
    client.create_project("CHURN", "Churn")
    return "CHURN"


def steps(client: Client, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(p.step, p.value) for p in client.metric_history(run_id, key)]


def test_start_run_logs_everything_and_finishes(
    client: Client, project: str, clock: FrozenClock, tmp_path: Path
) -> None:
    local = tmp_path / "confusion.csv"
    local.write_bytes(b"tp,fp\n10,2\n")
    started = clock.now()
    with client.start_run(
        project,
        experiment="tuning",
        name="gbm",
        params={"lr": 0.1, "depth": 6},
        tags={"team": "growth"},
        git_commit="abc123",
    ) as run:
        assert isinstance(run, ActiveRun)
        assert client.get_run(run.id).status == "running"
        run.log_metric("loss", 0.9)  # step 0
        run.log_metric("loss", 0.5)  # step 1
        run.log_metric("acc", 0.7)  # step 0: steps count per key
        run.log_metrics({"loss": 0.4, "acc": 0.8})  # steps 2 and 1
        run.log_metric("loss", 0.1, step=10)
        run.log_metric("loss", 0.05)  # continues after an explicit step: 11
        run.log_param("seed", 42)
        run.log_params({"optimizer": "adam"})
        run.set_tag("stage", "dev")
        text = run.log_text("all good\n", "notes/summary.txt")
        copied = run.log_artifact(local)
        named = run.log_artifact(str(local), "tables/cm.csv")
        clock.advance(timedelta(minutes=3))

    assert (text.path, text.size) == ("notes/summary.txt", 9)
    assert (copied.path, named.path) == ("confusion.csv", "tables/cm.csv")
    stored = client.get_run(run.id)
    assert stored.status == "finished"
    assert (stored.start_time, stored.end_time) == (started, started + timedelta(minutes=3))
    assert (stored.name, stored.experiment_name, stored.git_commit) == ("gbm", "tuning", "abc123")
    assert stored.params == {"depth": "6", "lr": "0.1", "optimizer": "adam", "seed": "42"}
    assert stored.tags == {"stage": "dev", "team": "growth"}
    assert steps(client, run.id, "loss") == [(0, 0.9), (1, 0.5), (2, 0.4), (10, 0.1), (11, 0.05)]
    assert steps(client, run.id, "acc") == [(0, 0.7), (1, 0.8)]
    assert (stored.metrics["loss"].step, stored.metrics["loss"].value) == (11, 0.05)
    assert {a.path for a in client.list_artifacts(run.id)} == {
        "confusion.csv", "notes", "tables",
    }  # fmt: skip
    assert client.download_artifact(run.id, "notes/summary.txt") == b"all good\n"
    assert client.download_artifact(run.id, "tables/cm.csv") == local.read_bytes()
    assert run.run.status == "finished"  # the ActiveRun holds the final state


def test_metrics_are_buffered_and_sent_in_batches(client: Client, project: str) -> None:
    with client.start_run(project) as run:
        for i in range(ActiveRun.BATCH - 1):
            run.log_metric("x", float(i))
        assert client.get_run(run.id).metrics == {}  # nothing sent yet
        run.log_metric("x", -1.0)  # fills the batch: sent now
        assert client.get_run(run.id).metrics["x"].step == ActiveRun.BATCH - 1
        for i in range(1500):
            run.log_metric("y", float(i))
    history = client.metric_history(run.id, "y")
    assert [p.step for p in history] == list(range(1500))
    assert len(client.metric_history(run.id, "x")) == ActiveRun.BATCH


def test_non_finite_values_from_python(client: Client, project: str) -> None:
    with client.start_run(project) as run:
        for value in (math.nan, math.inf, -math.inf, 3):
            run.log_metric("v", value)
    got = [p.value for p in client.metric_history(run.id, "v")]
    assert math.isnan(got[0]) and got[1:] == [math.inf, -math.inf, 3.0]


def test_an_exception_marks_the_run_failed_and_propagates(client: Client, project: str) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):  # noqa: SIM117
        with client.start_run(project) as run:
            run.log_metric("loss", 1.0)
            raise Boom
    stored = client.get_run(run.id)
    assert stored.status == "failed"
    assert stored.metrics["loss"].value == 1.0


def test_keyboard_interrupt_marks_the_run_killed(client: Client, project: str) -> None:
    with pytest.raises(KeyboardInterrupt):  # noqa: SIM117
        with client.start_run(project) as run:
            raise KeyboardInterrupt
    assert client.get_run(run.id).status == "killed"


def test_refused_final_metrics_end_the_run_as_failed(client: Client, project: str) -> None:
    # Regression: the run was marked finished although its last metrics were rejected.
    with pytest.raises(InvalidInput, match="metrics.0.key"):  # noqa: SIM117
        with client.start_run(project) as run:
            run.log_metric("val auc %", 0.99)  # buffered; refused at the end
    assert client.get_run(run.id).status == "failed"


def test_ending_explicitly(client: Client, project: str) -> None:
    run = ActiveRun(client, client.create_run(project))
    run.log_metric("loss", 0.3)
    ended = run.end("killed")
    assert ended.status == "killed"
    assert ended.metrics["loss"].value == 0.3


def test_git_commit_is_detected_only_inside_a_repository(
    client: Client, project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not a git repository
    with client.start_run(project) as run:
        pass
    assert client.get_run(run.id).git_commit is None


def test_errors_come_back_as_library_exceptions(client: Client, project: str) -> None:
    with pytest.raises(NotFound, match="run 'run_missing' not found"):
        client.get_run("run_missing")
    with pytest.raises(NotFound, match="project 'NOPE' not found"):
        client.create_run("NOPE")
    with pytest.raises(Conflict, match="project key 'CHURN' is taken"):
        client.create_project("CHURN", "Again")
    with pytest.raises(InvalidInput, match="name"):
        client.create_project("NEW", "")
    run = client.create_run(project, params={"lr": 0.1})
    with pytest.raises(Conflict, match="params are immutable"):
        client.log_params(run.id, {"lr": 0.2})
    with pytest.raises(InvalidInput, match="metrics.0.value"):
        client.log_metrics(run.id, [{"key": "x", "value": "high"}])


def test_planning_round_trip(client: Client, project: str, clock: FrozenClock) -> None:
    end = clock.now() + timedelta(days=3)
    h = client.create_hypothesis(
        project, "GBM", statement="GBM wins", metric="auc", threshold=0.8, time_box_end=end
    )
    assert (h.metric_key, h.threshold, h.time_box_end) == ("auc", 0.8, end)
    assert [x.item.key for x in client.list_hypotheses(project)] == [h.item.key]
    run = client.create_run(project)
    linked = client.link_run(h.item.key, run.id)
    assert [e.run_id for e in linked.evidence] == [run.id]
    assert client.get_hypothesis(h.item.key).evidence == linked.evidence
    item = client.create_item(project, "Clean the data")
    assert item.key == "CHURN-2"
    assert [i.key for i in client.list_items(project)] == [h.item.key, "CHURN-2"]
    updated = client.update_project(project, phase="modeling", charter={"problem": "churn"})
    assert (updated.phase, updated.charter.problem) == ("modeling", "churn")
    assert client.get_project("churn").key == "CHURN"  # keys are case-insensitive
