"""Flow metrics against brute-force re-derivations over generated histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from loopwise.numeric.flow import (
    Transition,
    cumulative_flow,
    item_flows,
    percentiles,
    throughput,
    weekly,
)

T0 = datetime(2026, 2, 2, tzinfo=UTC)
STATUSES = ("backlog", "ready", "in_progress", "review", "done", "killed")
STARTED = ("in_progress", "review")
FINISHED = ("done", "killed")

histories = st.lists(
    st.tuples(
        st.integers(0, 20 * 24),  # creation hour
        st.lists(st.tuples(st.integers(0, 20 * 24), st.sampled_from(STATUSES)), max_size=6),
    ),
    min_size=1,
    max_size=12,
)


def build(raw):  # type: ignore[no-untyped-def]
    created, moves = {}, []
    for i, (hour, steps) in enumerate(raw):
        key = f"X-{i}"
        created[key] = T0 + timedelta(hours=hour)
        for offset, status in steps:
            moves.append(Transition(key, created[key] + timedelta(hours=offset + 1), status))
    return created, moves


@given(histories)
@settings(max_examples=150, deadline=None)
def test_cfd_matches_a_day_by_day_replay(raw) -> None:  # type: ignore[no-untyped-def]
    created, moves = build(raw)
    first, last = T0.date(), T0.date() + timedelta(days=45)
    cfd = cumulative_flow(created, moves, STATUSES, first, last)
    for d, row in zip(cfd.days, cfd.counts, strict=True):
        end = datetime.combine(d + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        expected = dict.fromkeys(STATUSES, 0)
        for key, at in created.items():
            if at >= end:
                continue
            # same-time moves keep their recorded order: the later one wins
            before = sorted((m for m in moves if m.item == key and m.at < end), key=lambda m: m.at)
            status = before[-1].status if before else "backlog"
            expected[status] += 1
        assert row == tuple(expected[s] for s in STATUSES)
        assert sum(row) == sum(1 for at in created.values() if at < end)


@given(histories)
@settings(max_examples=150, deadline=None)
def test_flow_times_are_consistent(raw) -> None:  # type: ignore[no-untyped-def]
    created, moves = build(raw)
    for flow in item_flows(created, moves, started=STARTED, finished=FINISHED):
        if flow.finished is not None:
            assert flow.status in FINISHED
            assert flow.lead_time is not None and flow.cycle_time is not None
            assert 0 <= flow.cycle_time <= flow.lead_time
            assert flow.age(T0 + timedelta(days=99)) is None
        else:
            assert flow.cycle_time is None and flow.lead_time is None


def test_cycle_and_lead_time_of_one_item() -> None:
    created = {"A-1": T0}
    moves = [
        Transition("A-1", T0 + timedelta(days=2), "in_progress"),
        Transition("A-1", T0 + timedelta(days=3), "review"),
        Transition("A-1", T0 + timedelta(days=5, hours=12), "done"),
    ]
    (flow,) = item_flows(created, moves, started=STARTED, finished=FINISHED)
    assert flow.started == T0 + timedelta(days=2)
    assert flow.cycle_time == (moves[-1].at - moves[0].at).total_seconds() / 86400
    assert flow.lead_time == (moves[-1].at - T0).total_seconds() / 86400


def test_reopened_item_is_not_finished_and_ages() -> None:
    created = {"A-1": T0}
    moves = [
        Transition("A-1", T0 + timedelta(days=1), "in_progress"),
        Transition("A-1", T0 + timedelta(days=2), "done"),
        Transition("A-1", T0 + timedelta(days=3), "in_progress"),
    ]
    (flow,) = item_flows(created, moves, started=STARTED, finished=FINISHED)
    assert flow.finished is None
    assert flow.age(T0 + timedelta(days=4)) == 3.0


@given(st.lists(st.floats(0, 100), min_size=1, max_size=50))
def test_percentiles_agree_with_scipy(values: list[float]) -> None:
    ours = percentiles(values)
    for p, v in ours.items():
        assert np.isclose(v, stats.scoreatpercentile(values, p))


def test_throughput_and_weeks() -> None:
    created = {f"A-{i}": T0 for i in range(4)}
    moves = [
        Transition(f"A-{i}", T0 + timedelta(days=d), "done") for i, d in enumerate([0, 0, 2, 9])
    ]
    flows = item_flows(created, moves, started=STARTED, finished=FINISHED)
    daily = throughput(flows, T0.date(), T0.date() + timedelta(days=9))
    assert daily == [2, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    weeks = weekly(daily, T0.date())
    assert weeks == [(date(2026, 2, 2), 3), (date(2026, 2, 9), 0 + 1)]
    assert sum(c for _, c in weeks) == sum(daily)
