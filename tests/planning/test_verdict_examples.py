"""Worked examples of the verdict rule, with the reasons people read on the page."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.hypotheses.verdict import Criteria, compute_verdict
from loopwise.projects.models import Comparator
from loopwise.tracking.models import Evidence, RunStatus

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


AUC = Criteria("val_auc", Comparator.GE, 0.8, time_box_end=at(24))


def test_no_runs_is_open_and_says_what_it_needs() -> None:
    result = compute_verdict(AUC, [], at(1))
    assert result.verdict is Verdict.OPEN
    assert result.reason == "no finished run yet; needs val_auc >= 0.8"
    assert (result.run_id, result.value, result.decided_at) == (None, None, None)


def test_first_run_to_meet_the_bar_supports() -> None:
    runs = [
        Evidence("run_late", RunStatus.FINISHED, at(5), 0.95),
        Evidence("run_weak", RunStatus.FINISHED, at(2), 0.70),
        Evidence("run_early", RunStatus.FINISHED, at(3), 0.81),
    ]
    result = compute_verdict(AUC, runs, at(6))
    assert result.verdict is Verdict.SUPPORTED
    assert (result.run_id, result.value, result.decided_at) == ("run_early", 0.81, at(3))
    assert result.reason == "run run_early reached val_auc = 0.81 >= 0.8"


def test_open_reason_reports_the_best_so_far() -> None:
    runs = [
        Evidence("run_a", RunStatus.FINISHED, at(1), 0.70),
        Evidence("run_b", RunStatus.FINISHED, at(2), 0.75),
        Evidence("run_c", RunStatus.FAILED, at(3), 0.99),
    ]
    result = compute_verdict(AUC, runs, at(4))
    assert result.verdict is Verdict.OPEN
    assert (result.run_id, result.value) == ("run_b", 0.75)
    assert result.reason == "2 finished runs, best 0.75; needs val_auc >= 0.8"


def test_time_box_end_refutes_with_a_dated_reason() -> None:
    runs = [Evidence("run_a", RunStatus.FINISHED, at(1), 0.70)]
    result = compute_verdict(AUC, runs, at(24))
    assert result.verdict is Verdict.REFUTED
    assert result.decided_at == at(24)
    assert result.reason == (
        "time-box ended 2026-01-06 09:00 UTC with no run reaching val_auc >= 0.8 "
        "(1 finished runs, best 0.7)"
    )


def test_one_second_before_the_time_box_ends_it_is_still_open() -> None:
    result = compute_verdict(AUC, [], at(24) - timedelta(seconds=1))
    assert result.verdict is Verdict.OPEN


def test_a_run_finishing_exactly_at_the_time_box_end_counts_and_a_later_one_does_not() -> None:
    on_time = Evidence("run_on_time", RunStatus.FINISHED, at(24), 0.9)
    too_late = Evidence("run_late", RunStatus.FINISHED, at(24) + timedelta(seconds=1), 0.9)
    assert compute_verdict(AUC, [on_time], at(30)).verdict is Verdict.SUPPORTED
    late = compute_verdict(AUC, [too_late], at(30))
    assert late.verdict is Verdict.REFUTED
    assert "no finished run yet" in late.reason


def test_kill_criterion_reason() -> None:
    criteria = Criteria("loss", Comparator.LE, 0.2, kill_after_runs=2, kill_threshold=0.5)
    runs = [
        Evidence("run_a", RunStatus.FINISHED, at(1), 0.9),
        Evidence("run_b", RunStatus.FINISHED, at(2), 0.6),
        Evidence("run_c", RunStatus.FINISHED, at(3), 0.1),
    ]
    result = compute_verdict(criteria, runs, at(4))
    assert result.verdict is Verdict.REFUTED
    assert (result.run_id, result.value, result.decided_at) == ("run_b", 0.6, at(2))
    assert result.reason == (
        "kill criterion met: 2 finished runs, best 0.6, none reached loss <= 0.5"
    )


def test_kill_criterion_without_any_value() -> None:
    criteria = Criteria("auc", Comparator.GE, 0.8, kill_after_runs=1)
    result = compute_verdict(criteria, [Evidence("run_a", RunStatus.FINISHED, at(1), None)], at(2))
    assert result.verdict is Verdict.REFUTED
    assert result.reason == "kill criterion met: 1 finished runs, no value, none reached auc >= 0.8"


def test_runs_ending_at_the_same_moment_are_judged_together() -> None:
    # Regression: the kill criterion used to fire on the run whose id sorted first,
    # before the equally early run that met the bar was looked at.
    criteria = Criteria("auc", Comparator.GE, 0.8, kill_after_runs=1)
    runs = [
        Evidence("run_a", RunStatus.FINISHED, at(1), 0.1),
        Evidence("run_b", RunStatus.FINISHED, at(1), 0.9),
    ]
    result = compute_verdict(criteria, runs, at(2))
    assert result.verdict is Verdict.SUPPORTED
    assert result.run_id == "run_b"


def test_nan_never_meets_a_bar_but_infinity_can() -> None:
    nan = [Evidence("run_nan", RunStatus.FINISHED, at(1), math.nan)]
    assert compute_verdict(AUC, nan, at(2)).verdict is Verdict.OPEN
    inf = [Evidence("run_inf", RunStatus.FINISHED, at(1), math.inf)]
    assert compute_verdict(AUC, inf, at(2)).verdict is Verdict.SUPPORTED
    lower = Criteria("loss", Comparator.LT, 0.1)
    assert compute_verdict(lower, inf, at(2)).verdict is Verdict.OPEN


def test_strict_and_inclusive_comparators_at_the_threshold() -> None:
    run = [Evidence("run_a", RunStatus.FINISHED, at(1), 0.8)]
    for cmp, expected in [
        (Comparator.GE, Verdict.SUPPORTED),
        (Comparator.GT, Verdict.OPEN),
        (Comparator.LE, Verdict.SUPPORTED),
        (Comparator.LT, Verdict.OPEN),
    ]:
        assert compute_verdict(Criteria("m", cmp, 0.8), run, at(2)).verdict is expected, cmp
