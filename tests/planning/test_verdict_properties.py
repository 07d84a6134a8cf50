"""Property tests for the pure verdict function, against an independent reference.

``compute_verdict`` walks the finished runs in time order. The reference below does not:
for every moment at which something could be decided (each eligible run's end, and the
time-box end) it rebuilds from scratch what was known at that moment and asks the three
questions in the documented order (supported? kill criterion met? time-box over?). The
first moment that answers decides. The two must agree on every generated input.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import find, given, settings
from hypothesis import strategies as st

from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.hypotheses.verdict import Criteria, VerdictResult, compute_verdict
from loopwise.projects.models import Comparator
from loopwise.tracking.models import Evidence, RunStatus

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NON_FINISHED = ("running", "failed", "killed")

# Deterministic: the same examples on every machine and every run, no example database.
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=150)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


# --- the independent reference --------------------------------------------------------


def _usable(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _meets(cmp: Comparator, value: float | None, bar: float) -> bool:
    if not _usable(value):
        return False
    assert value is not None
    if cmp is Comparator.GE:
        return value >= bar
    if cmp is Comparator.GT:
        return value > bar
    if cmp is Comparator.LE:
        return value <= bar
    return value < bar


def _best(cmp: Comparator, runs: Sequence[Evidence]) -> Evidence | None:
    """The run with the best usable value; ties go to the earliest (end, id)."""
    usable = [r for r in runs if _usable(r.value)]
    if not usable:
        return None
    sign = -1.0 if cmp in (Comparator.GE, Comparator.GT) else 1.0
    return min(usable, key=lambda r: (sign * (r.value or 0.0), r.end_time, r.run_id))


def reference(
    criteria: Criteria, runs: Sequence[Evidence], now: datetime
) -> tuple[Verdict, str | None, float | None, datetime | None]:
    cmp, bar, end = criteria.comparator, criteria.threshold, criteria.time_box_end
    kill_bar = bar if criteria.kill_threshold is None else criteria.kill_threshold
    eligible = [
        r
        for r in runs
        if r.status == "finished"
        and r.end_time is not None
        and r.end_time <= now
        and (end is None or r.end_time <= end)
    ]
    moments = {r.end_time for r in eligible if r.end_time is not None}
    if end is not None and end <= now:
        moments.add(end)
    for moment in sorted(moments):
        known = [r for r in eligible if r.end_time is not None and r.end_time <= moment]
        supporters = sorted(
            (r for r in known if _meets(cmp, r.value, bar)),
            key=lambda r: (r.end_time, r.run_id),
        )
        if supporters:
            first = supporters[0]
            return Verdict.SUPPORTED, first.run_id, first.value, moment
        best = _best(cmp, known)
        judged = criteria.kill_after_runs is not None and len(known) >= criteria.kill_after_runs
        if judged and (best is None or not _meets(cmp, best.value, kill_bar)):
            return (
                Verdict.REFUTED,
                best.run_id if best else None,
                best.value if best else None,
                moment,
            )
        if end is not None and moment == end:
            return (
                Verdict.REFUTED,
                best.run_id if best else None,
                best.value if best else None,
                end,
            )
    best = _best(cmp, eligible)
    return Verdict.OPEN, best.run_id if best else None, best.value if best else None, None


def summary(result: VerdictResult) -> tuple[Verdict, str | None, float | None, datetime | None]:
    return result.verdict, result.run_id, result.value, result.decided_at


# --- generators ------------------------------------------------------------------------

# Small integer grids make ties (equal values, equal end times, value == threshold) common.
values = st.one_of(
    st.none(),
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf]),
    st.integers(0, 10).map(float),
    st.floats(-5, 15, allow_nan=False),
)
# A narrow window of minutes, so runs often end at the same moment as each other,
# as the time-box, or as "now".
minutes = st.integers(0, 4)
comparators = st.sampled_from(list(Comparator))
MOSTLY_FINISHED = ("finished", "finished", "finished", *NON_FINISHED)


@st.composite
def criteria_st(draw: st.DrawFn) -> Criteria:
    kill_after = draw(st.one_of(st.none(), st.integers(1, 4)))
    return Criteria(
        metric_key="auc",
        comparator=draw(comparators),
        threshold=float(draw(st.integers(0, 10))),
        time_box_end=draw(st.one_of(st.none(), minutes.map(at))),
        kill_after_runs=kill_after,
        kill_threshold=(
            draw(st.one_of(st.none(), st.integers(0, 10).map(float)))
            if kill_after is not None
            else None
        ),
    )


@st.composite
def run_st(draw: st.DrawFn, statuses: Sequence[str] = MOSTLY_FINISHED) -> Evidence:
    status = draw(st.sampled_from(statuses))
    end = draw(st.one_of(st.none(), minutes.map(at))) if status != "finished" else None
    if status == "finished":
        end = draw(minutes.map(at))
    return Evidence(run_id="", status=RunStatus(status), end_time=end, value=draw(values))


def with_ids(runs: list[Evidence], ids: list[str]) -> list[Evidence]:
    return [replace(r, run_id=i) for r, i in zip(runs, ids, strict=True)]


@st.composite
def runs_st(draw: st.DrawFn, max_size: int = 8) -> list[Evidence]:
    runs = draw(st.lists(run_st(), max_size=max_size))
    # Ids in an order unrelated to the list order or to the end times.
    ids = draw(
        st.lists(
            st.text("0123456789abcdef", min_size=1, max_size=4),
            min_size=len(runs),
            max_size=len(runs),
            unique=True,
        )
    )
    return with_ids(runs, [f"run_{i}" for i in ids])


nows = st.integers(0, 6).map(at)


# --- properties ------------------------------------------------------------------------


@PROPERTY
@given(criteria_st(), runs_st(), nows)
def test_matches_the_reference(criteria: Criteria, runs: list[Evidence], now: datetime) -> None:
    assert summary(compute_verdict(criteria, runs, now)) == reference(criteria, runs, now)


@PROPERTY
@given(criteria_st(), runs_st(), nows, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_runs(
    criteria: Criteria, runs: list[Evidence], now: datetime, rnd: random.Random
) -> None:
    shuffled = list(runs)
    rnd.shuffle(shuffled)
    assert compute_verdict(criteria, shuffled, now) == compute_verdict(criteria, runs, now)
    assert compute_verdict(criteria, reversed(runs), now) == compute_verdict(criteria, runs, now)


@PROPERTY
@given(criteria_st(), runs_st(), nows)
def test_supported_rests_on_an_eligible_run_that_meets_the_bar(
    criteria: Criteria, runs: list[Evidence], now: datetime
) -> None:
    result = compute_verdict(criteria, runs, now)
    if result.verdict is not Verdict.SUPPORTED:
        return
    (run,) = [r for r in runs if r.run_id == result.run_id]
    assert run.status == "finished"
    assert run.end_time is not None
    assert run.value is not None and not math.isnan(run.value)
    assert _meets(criteria.comparator, run.value, criteria.threshold)
    assert run.end_time <= now
    if criteria.time_box_end is not None:
        assert run.end_time <= criteria.time_box_end
    assert result.value == run.value
    assert result.decided_at == run.end_time


@PROPERTY
@given(criteria_st(), runs_st(), nows)
def test_open_means_time_left_and_no_eligible_run_meets_the_bar(
    criteria: Criteria, runs: list[Evidence], now: datetime
) -> None:
    result = compute_verdict(criteria, runs, now)
    if result.verdict is not Verdict.OPEN:
        return
    end = criteria.time_box_end
    assert end is None or now < end
    eligible = [
        r for r in runs if r.status == "finished" and r.end_time is not None and r.end_time <= now
    ]
    assert not any(_meets(criteria.comparator, r.value, criteria.threshold) for r in eligible)
    assert result.decided_at is None
    if criteria.kill_after_runs is not None and len(eligible) >= criteria.kill_after_runs:
        # Enough runs to judge the kill criterion, so the best of them cleared the kill bar.
        kill_bar = (
            criteria.threshold if criteria.kill_threshold is None else criteria.kill_threshold
        )
        best = _best(criteria.comparator, eligible)
        assert best is not None and _meets(criteria.comparator, best.value, kill_bar)


@PROPERTY
@given(criteria_st(), runs_st(), nows)
def test_refuted_is_decided_no_later_than_now_and_the_time_box(
    criteria: Criteria, runs: list[Evidence], now: datetime
) -> None:
    result = compute_verdict(criteria, runs, now)
    if result.verdict is not Verdict.REFUTED:
        return
    assert result.decided_at is not None and result.decided_at <= now
    if criteria.time_box_end is not None:
        assert result.decided_at <= criteria.time_box_end
    else:
        assert criteria.kill_after_runs is not None, "without a time-box only a kill refutes"


@PROPERTY
@given(criteria_st(), runs_st(), nows, st.integers(1, 30))
def test_a_decided_verdict_is_stable_as_time_passes(
    criteria: Criteria, runs: list[Evidence], now: datetime, later: int
) -> None:
    first = compute_verdict(criteria, runs, now)
    if first.verdict is Verdict.OPEN:
        return
    assert compute_verdict(criteria, runs, now + timedelta(minutes=later)) == first


@PROPERTY
@given(
    criteria_st(),
    runs_st(),
    st.lists(run_st(statuses=NON_FINISHED), min_size=1, max_size=5),
    nows,
)
def test_runs_that_did_not_finish_never_change_the_result(
    criteria: Criteria, runs: list[Evidence], others: list[Evidence], now: datetime
) -> None:
    noise = with_ids(others, [f"zz_other_{i}" for i in range(len(others))])
    # Give some of them a value that would meet any bar, had they finished.
    loud = [replace(r, value=math.inf if i % 2 else -math.inf) for i, r in enumerate(noise)]
    baseline = compute_verdict(criteria, runs, now)
    assert compute_verdict(criteria, runs + noise, now) == baseline
    assert compute_verdict(criteria, loud + runs, now) == baseline


@PROPERTY
@given(criteria_st(), runs_st(), nows, st.sampled_from([None, math.nan]))
def test_missing_and_nan_values_never_support(
    criteria: Criteria, runs: list[Evidence], now: datetime, blank: float | None
) -> None:
    blanked = [replace(r, value=blank) for r in runs]
    result = compute_verdict(criteria, blanked, now)
    assert result.verdict is not Verdict.SUPPORTED
    assert result.run_id is None and result.value is None


@PROPERTY
@given(
    st.sampled_from(list(Comparator)),
    st.integers(1, 5),
    st.lists(st.integers(0, 4).map(float), min_size=0, max_size=8),
)
def test_kill_after_runs_refutes_at_the_kth_finished_run(
    cmp: Comparator, k: int, weak_values: list[float]
) -> None:
    # Threshold 5 for >=/> and -1 for <=/<: none of the values in 0..4 meets it, and
    # the kill bar is the threshold itself, so the k-th finished run refutes.
    bar = 5.0 if cmp in (Comparator.GE, Comparator.GT) else -1.0
    criteria = Criteria("auc", cmp, bar, kill_after_runs=k)
    runs = [
        Evidence(f"run_{i:02}", RunStatus.FINISHED, at(i + 1), v) for i, v in enumerate(weak_values)
    ]
    result = compute_verdict(criteria, runs, at(60))
    if len(runs) < k:
        assert result.verdict is Verdict.OPEN
    else:
        assert result.verdict is Verdict.REFUTED
        assert result.decided_at == at(k)
        best = _best(cmp, runs[:k])
        assert best is not None and (result.run_id, result.value) == (best.run_id, best.value)
        assert f"{k} finished runs" in result.reason


@PROPERTY
@given(st.integers(1, 5), st.lists(st.integers(0, 9).map(float), min_size=1, max_size=8))
def test_kill_threshold_below_the_bar_only_kills_hopeless_hypotheses(
    k: int, observed: list[float]
) -> None:
    # Supported at >= 10, killed after k runs unless one reached at least 5.
    criteria = Criteria("auc", Comparator.GE, 10.0, kill_after_runs=k, kill_threshold=5.0)
    runs = [
        Evidence(f"run_{i:02}", RunStatus.FINISHED, at(i + 1), v) for i, v in enumerate(observed)
    ]
    result = compute_verdict(criteria, runs, at(60))
    if len(runs) < k:
        assert result.verdict is Verdict.OPEN
    elif max(observed[:k]) >= 5.0:
        # Promising after k runs: the kill criterion never fires later either.
        assert result.verdict is Verdict.OPEN
    else:
        assert result.verdict is Verdict.REFUTED
        assert result.decided_at == at(k)


@PROPERTY
@given(criteria_st(), runs_st(), nows)
def test_runs_ending_after_now_or_after_the_time_box_do_not_count(
    criteria: Criteria, runs: list[Evidence], now: datetime
) -> None:
    end = criteria.time_box_end
    counted = [
        r
        for r in runs
        if r.status == "finished"
        and r.end_time is not None
        and r.end_time <= now
        and (end is None or r.end_time <= end)
    ]
    assert compute_verdict(criteria, counted, now) == compute_verdict(criteria, runs, now)


def test_the_generators_reach_every_verdict() -> None:
    """Guards the conditional properties above against testing nothing."""
    for verdict in Verdict:
        found = find(
            st.tuples(criteria_st(), runs_st(), nows),
            lambda case, v=verdict: compute_verdict(*case).verdict is v,
            settings=settings(derandomize=True, database=None, max_examples=500),
        )
        assert compute_verdict(*found).verdict is verdict
