"""Flow metrics from status histories: cycle and lead time, throughput, cumulative flow,
work-item age. Pure functions over plain records; times in days.

Definitions (Kanban Guide / ActionableAgile conventions):
- an item *starts* when it first enters a started status (by default: in progress,
  review) and *finishes* when it last enters a finished status (done, killed);
- lead time = finish - creation; cycle time = finish - start;
- age of an unfinished started item = now - start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

DAY = 86_400.0


@dataclass(frozen=True)
class Transition:
    item: str
    at: datetime
    status: str


@dataclass(frozen=True)
class ItemFlow:
    item: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    status: str

    @property
    def cycle_time(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds() / DAY

    @property
    def lead_time(self) -> float | None:
        if self.finished is None:
            return None
        return (self.finished - self.created).total_seconds() / DAY

    def age(self, now: datetime) -> float | None:
        if self.started is None or self.finished is not None:
            return None
        return (now - self.started).total_seconds() / DAY


@dataclass(frozen=True)
class CumulativeFlow:
    days: tuple[date, ...]
    statuses: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]  # counts[d][s]: items in status s at end of day d


def item_flows(
    created: dict[str, datetime],
    transitions: Iterable[Transition],
    *,
    started: Sequence[str],
    finished: Sequence[str],
    initial: str = "backlog",
) -> list[ItemFlow]:
    """One flow record per item from its creation time and status transitions."""
    by_item: dict[str, list[Transition]] = {key: [] for key in created}
    for t in transitions:
        if t.item in by_item:
            by_item[t.item].append(t)
    out = []
    for key, moves in by_item.items():
        moves.sort(key=lambda t: t.at)
        start = next((t.at for t in moves if t.status in started or t.status in finished), None)
        status = moves[-1].status if moves else initial
        finish = None
        if status in finished:
            finish = moves[-1].at
            start = start or finish  # jumped straight to done: zero cycle time
        out.append(ItemFlow(key, created[key], start, finish, status))
    return out


def percentiles(values: Iterable[float], ps: Sequence[int] = (50, 85, 95)) -> dict[int, float]:
    """Linear-interpolated percentiles (NumPy's default); empty input gives an empty dict."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return {}
    return {p: float(np.percentile(arr, p)) for p in ps}


def throughput(flows: Iterable[ItemFlow], first: date, last: date) -> list[int]:
    """Items finished per day, ``first`` to ``last`` inclusive, zero days included."""
    n = (last - first).days + 1
    counts = [0] * max(n, 0)
    for f in flows:
        if f.finished is not None:
            offset = (f.finished.date() - first).days
            if 0 <= offset < n:
                counts[offset] += 1
    return counts


def weekly(daily: Sequence[int], first: date) -> list[tuple[date, int]]:
    """Daily counts summed into ISO weeks (Monday start)."""
    out: dict[date, int] = {}
    for i, count in enumerate(daily):
        day = first + timedelta(days=i)
        monday = day - timedelta(days=day.weekday())
        out[monday] = out.get(monday, 0) + count
    return sorted(out.items())


def cumulative_flow(
    created: dict[str, datetime],
    transitions: Iterable[Transition],
    statuses: Sequence[str],
    first: date,
    last: date,
    *,
    initial: str = "backlog",
) -> CumulativeFlow:
    """Items per status at the end of each day (stacked, this is the CFD)."""
    index = {s: i for i, s in enumerate(statuses)}
    events: list[tuple[datetime, str, str | None]] = [
        (at, key, None) for key, at in created.items()
    ]
    events += [(t.at, t.item, t.status) for t in transitions if t.item in created]
    events.sort(key=lambda e: (e[0], e[2] is not None))
    current: dict[str, str] = {}
    days, rows = [], []
    pos = 0
    day = first
    tz = events[0][0].tzinfo if events else None
    while day <= last:
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        while pos < len(events) and events[pos][0] < end:
            _at, key, status = events[pos]
            current[key] = status if status is not None else initial
            pos += 1
        row = [0] * len(statuses)
        for status in current.values():
            if status in index:
                row[index[status]] += 1
        days.append(day)
        rows.append(tuple(row))
        day += timedelta(days=1)
    return CumulativeFlow(tuple(days), tuple(statuses), tuple(rows))
