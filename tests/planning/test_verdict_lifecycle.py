"""The stored verdict follows the evidence: run events, links, and the time-box sweep.

The tracking and planning services called directly (tracking publishes run events,
planning's handlers re-judge within the same transaction), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from loopwise.app import run_job
from loopwise.core.clock import FrozenClock
from loopwise.core.errors import InvalidInput
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.models import Hypothesis, Verdict
from loopwise.planning.hypotheses.schemas import HypothesisCreate
from loopwise.planning.items import service as items
from loopwise.slices import periodic
from loopwise.tracking import service as tracking
from loopwise.tracking.models import Run, RunStatus
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


@pytest.fixture
def project(make_project: Callable[[str], str]) -> str:
    return make_project("CHURN")


def make_hypothesis(do: UseCases, clock: FrozenClock, **fields: Any) -> Hypothesis:
    fields.setdefault("time_box_end", clock.now() + timedelta(days=7))
    body = HypothesisCreate(
        title="Gradient boosting beats the baseline",
        statement="A tuned GBM reaches 0.8 validation AUC",
        metric_key="val_auc",
        threshold=0.8,
        **fields,
    )
    return do(hypotheses.create_hypothesis, "CHURN", body)


def start(do: UseCases, *linked: str, project: str = "CHURN", name: str | None = None) -> Run:
    return do(tracking.create_run, project, RunCreate(name=name, hypotheses=list(linked)))


def log(do: UseCases, run_id: str, *values: float, first_step: int = 0) -> None:
    points = [MetricIn(key="val_auc", value=v, step=first_step + i) for i, v in enumerate(values)]
    do(tracking.log_metrics, run_id, points)


def finish(do: UseCases, run_id: str, status: RunStatus = RunStatus.FINISHED) -> Run:
    return do(tracking.finish_run, run_id, RunFinish(status=status))


def verdict(do: UseCases, key: str) -> Hypothesis:
    return do.read(hypotheses.get_hypothesis, key)


def verdict_events(do: UseCases, key: str) -> list[tuple[str | None, str | None]]:
    return [
        (e.from_value, e.to_value) for e in do.read(items.item_history, key) if e.kind == "verdict"
    ]


def test_new_hypothesis_is_open(do: UseCases, project: str, clock: FrozenClock) -> None:
    h = make_hypothesis(do, clock)
    assert h.verdict is Verdict.OPEN
    assert h.item.key == "CHURN-1"
    assert h.verdict_reason == "no finished run yet; needs val_auc >= 0.8"
    assert verdict(do, h.item.key).verdict is Verdict.OPEN


def test_verdict_follows_a_linked_run_when_it_finishes(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock)
    run = start(do, h.item.key, name="gbm")
    log(do, run.id, 0.70, 0.86)
    # Still running: a good value does not count yet.
    assert verdict(do, h.item.key).verdict is Verdict.OPEN
    clock.advance(timedelta(hours=2))
    finish(do, run.id)
    after = verdict(do, h.item.key)
    assert after.verdict is Verdict.SUPPORTED
    assert after.verdict_run_id == run.id
    assert after.verdict_value == 0.86
    assert after.verdict_at == clock.now()
    assert after.verdict_reason == f"run {run.id} reached val_auc = 0.86 >= 0.8"
    assert [(e.run_id, e.status, e.value) for e in after.evidence] == [(run.id, "finished", 0.86)]
    assert verdict_events(do, h.item.key) == [("open", "supported")]


def test_the_latest_value_counts_not_the_best(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock)
    run = start(do, h.item.key)
    log(do, run.id, 0.95, 0.60)  # steps 0 and 1: the latest is 0.60
    finish(do, run.id)
    after = verdict(do, h.item.key)
    assert after.verdict is Verdict.OPEN
    assert after.evidence[0].value == 0.60
    assert verdict_events(do, h.item.key) == []


def test_linking_a_run_after_it_finished_updates_the_verdict(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock)
    run = start(do)
    log(do, run.id, 0.91)
    finish(do, run.id)
    assert verdict(do, h.item.key).verdict is Verdict.OPEN
    clock.advance(timedelta(minutes=5))
    linked = do(hypotheses.link_runs, h.item.key, [run.id])
    assert linked.verdict is Verdict.SUPPORTED
    assert linked.verdict_run_id == run.id
    # Decided when the run finished, not when it was linked.
    assert linked.verdict_at == clock.now() - timedelta(minutes=5)
    history = do.read(items.item_history, h.item.key)
    kinds = [
        (e.kind, e.from_value, e.to_value) for e in history if e.kind in ("run_linked", "verdict")
    ]
    assert kinds == [("run_linked", None, run.id), ("verdict", "open", "supported")]
    assert history[-1].note == f"run {run.id} reached val_auc = 0.91 >= 0.8"
    assert history[-1].actor is None  # the system, not the caller


def sweep_verdicts(do: UseCases) -> int:
    """The server's time-box sweep, as the planning slice declares it."""
    (sweep,) = [job for job in periodic() if job.name == "time-box sweep"]
    assert sweep.every_setting == "verdict_refresh_seconds"
    return run_job(do.state, sweep)


def test_time_box_passing_refutes_through_the_sweep(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    end = clock.now() + timedelta(days=2)
    h = make_hypothesis(do, clock, time_box_end=end)
    run = start(do, h.item.key)
    log(do, run.id, 0.75)
    finish(do, run.id)
    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert sweep_verdicts(do) == 0
    assert verdict(do, h.item.key).verdict is Verdict.OPEN

    clock.advance(timedelta(seconds=1))  # exactly the time-box end
    # Stored verdicts change only when something re-judges them.
    assert verdict(do, h.item.key).verdict is Verdict.OPEN
    assert sweep_verdicts(do) == 1
    after = verdict(do, h.item.key)
    assert after.verdict is Verdict.REFUTED
    assert after.verdict_at == end
    assert (after.verdict_run_id, after.verdict_value) == (run.id, 0.75)
    assert after.verdict_reason.startswith("time-box ended 2026-01-07 09:00 UTC")
    assert verdict_events(do, h.item.key) == [("open", "refuted")]

    clock.advance(timedelta(days=30))
    assert sweep_verdicts(do) == 0
    assert verdict_events(do, h.item.key) == [("open", "refuted")]


def test_sweep_only_touches_hypotheses_whose_time_box_passed(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    soon = make_hypothesis(do, clock, time_box_end=clock.now() + timedelta(hours=1))
    later = make_hypothesis(do, clock, time_box_end=clock.now() + timedelta(days=9))
    unbounded = make_hypothesis(do, clock, time_box_end=None)
    clock.advance(timedelta(hours=1))
    assert sweep_verdicts(do) == 1
    verdicts = {h.item.key: h.verdict for h in do.read(hypotheses.list_hypotheses, project)}
    assert verdicts == {
        soon.item.key: Verdict.REFUTED,
        later.item.key: Verdict.OPEN,
        unbounded.item.key: Verdict.OPEN,
    }


def test_a_failed_run_does_not_support(do: UseCases, project: str, clock: FrozenClock) -> None:
    h = make_hypothesis(do, clock)
    run = start(do, h.item.key)
    log(do, run.id, 0.99)
    stored = finish(do, run.id, RunStatus.FAILED)
    assert stored.status == "failed"
    assert stored.end_time == clock.now()
    assert stored.metrics["val_auc"].value == 0.99
    after = verdict(do, h.item.key)
    assert after.verdict is Verdict.OPEN
    assert after.evidence[0].status == "failed"
    assert verdict_events(do, h.item.key) == []


def test_a_run_finishing_after_the_time_box_does_not_count(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock, time_box_end=clock.now() + timedelta(hours=1))
    run = start(do, h.item.key)
    log(do, run.id, 0.99)
    clock.advance(timedelta(hours=1, seconds=1))
    finish(do, run.id)
    after = verdict(do, h.item.key)
    assert after.verdict is Verdict.REFUTED
    assert after.verdict_run_id is None
    assert "no finished run yet" in after.verdict_reason
    assert verdict_events(do, h.item.key) == [("open", "refuted")]


def test_kill_criterion_refutes_after_n_runs(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock, kill_after_runs=2, kill_threshold=0.7)
    for value in (0.55, 0.65):
        clock.advance(timedelta(hours=1))
        run = start(do, h.item.key)
        log(do, run.id, value)
        finish(do, run.id)
        if value == 0.55:
            assert verdict(do, h.item.key).verdict is Verdict.OPEN
    after = verdict(do, h.item.key)
    assert after.verdict is Verdict.REFUTED
    assert (after.verdict_run_id, after.verdict_value) == (run.id, 0.65)
    assert after.verdict_reason == (
        "kill criterion met: 2 finished runs, best 0.65, none reached val_auc >= 0.7"
    )
    assert verdict_events(do, h.item.key) == [("open", "refuted")]


def test_metrics_logged_after_the_run_finished_are_evidence_too(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock)
    run = start(do, h.item.key)
    log(do, run.id, 0.5)
    finish(do, run.id)
    assert verdict(do, h.item.key).verdict is Verdict.OPEN
    log(do, run.id, 0.9, first_step=10)
    assert verdict(do, h.item.key).verdict is Verdict.SUPPORTED


def test_unlinking_the_evidence_reopens_and_is_recorded(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    h = make_hypothesis(do, clock)
    run = start(do, h.item.key)
    log(do, run.id, 0.9)
    finish(do, run.id)
    assert verdict(do, h.item.key).verdict is Verdict.SUPPORTED
    assert do(hypotheses.unlink_run, h.item.key, run.id).verdict is Verdict.OPEN
    assert verdict_events(do, h.item.key) == [("open", "supported"), ("supported", "open")]


def test_finishing_a_run_twice_does_not_move_its_end(
    do: UseCases, project: str, clock: FrozenClock
) -> None:
    # Regression: a repeated "finished" used to move end_time to now, which could push a
    # supporting run past the time-box end and flip a decided verdict.
    h = make_hypothesis(do, clock, time_box_end=clock.now() + timedelta(hours=1))
    run = start(do, h.item.key)
    log(do, run.id, 0.9)
    first_end = finish(do, run.id).end_time
    clock.advance(timedelta(hours=3))
    again = finish(do, run.id)
    assert again.end_time == first_end
    assert verdict(do, h.item.key).verdict is Verdict.SUPPORTED
    assert verdict_events(do, h.item.key) == [("open", "supported")]


def test_runs_from_another_project_cannot_be_evidence(
    do: UseCases, project: str, clock: FrozenClock, make_project: Callable[[str], str]
) -> None:
    h = make_hypothesis(do, clock)
    make_project("FRAUD")
    run = start(do, project="FRAUD")
    log(do, run.id, 0.99)
    finish(do, run.id)
    with pytest.raises(InvalidInput, match="belongs to project FRAUD"):
        do(hypotheses.link_runs, h.item.key, [run.id])
    assert verdict(do, h.item.key).evidence == ()
    # Offered at the run's start, it is refused with the run.
    with pytest.raises(InvalidInput, match="belongs to project FRAUD"):
        start(do, h.item.key, project="FRAUD")
    assert [r.id for r in do.read(tracking.list_runs, "FRAUD")] == [run.id]
