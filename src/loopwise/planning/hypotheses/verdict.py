"""The hypothesis verdict: a pure decision from linked runs and the clock.

Rule, applied in time order over the linked runs that *finished* (status ``finished``)
no later than ``now``:

1. Runs that finished after the time-box end do not count.
2. The first run whose metric meets the threshold makes the hypothesis **supported**.
3. Kill criterion: once ``kill_after_runs`` runs have finished and none reached
   ``kill_threshold`` (default: the threshold itself), the hypothesis is **refuted**.
4. When the time-box has ended with neither, it is **refuted** at the time-box end.
5. Otherwise it stays **open**.

Failed or still-running runs never count; a missing or NaN value never meets a bar.
Runs that finished at the same moment are judged together (support before the kill
criterion), so the verdict never depends on the order of run ids.
The earliest decision wins, so a verdict, once reached, does not change with time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from loopwise.planning.hypotheses.models import Verdict
from loopwise.projects.models import Comparator
from loopwise.tracking.models import Evidence, RunStatus


@dataclass(frozen=True)
class Criteria:
    metric_key: str
    comparator: Comparator
    threshold: float
    time_box_end: datetime | None = None
    kill_after_runs: int | None = None
    kill_threshold: float | None = None


@dataclass(frozen=True)
class VerdictResult:
    verdict: Verdict
    run_id: str | None
    value: float | None
    decided_at: datetime | None
    reason: str


def _usable(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def compute_verdict(criteria: Criteria, runs: Iterable[Evidence], now: datetime) -> VerdictResult:
    key, cmp, bar = criteria.metric_key, criteria.comparator, criteria.threshold
    end = criteria.time_box_end
    finished = sorted(
        (
            r
            for r in runs
            if r.status is RunStatus.FINISHED
            and r.end_time is not None
            and r.end_time <= now
            and (end is None or r.end_time <= end)
        ),
        key=lambda r: (r.end_time, r.run_id),
    )
    best: Evidence | None = None
    for count, run in enumerate(finished, start=1):
        if _usable(run.value):
            assert run.value is not None
            if cmp.holds(run.value, bar):
                return VerdictResult(
                    Verdict.SUPPORTED,
                    run.run_id,
                    run.value,
                    run.end_time,
                    f"run {run.run_id} reached {key} = {_fmt(run.value)} {cmp.value} {_fmt(bar)}",
                )
            if best is None or _better(cmp, run.value, best.value):
                best = run
        if count < len(finished) and finished[count].end_time == run.end_time:
            continue  # runs that ended at the same moment are judged together
        if criteria.kill_after_runs is not None and count >= criteria.kill_after_runs:
            kill_bar = bar if criteria.kill_threshold is None else criteria.kill_threshold
            if best is None or best.value is None or not cmp.holds(best.value, kill_bar):
                best_text = "no value" if best is None else f"best {_fmt(best.value or 0.0)}"
                return VerdictResult(
                    Verdict.REFUTED,
                    best.run_id if best else None,
                    best.value if best else None,
                    run.end_time,
                    f"kill criterion met: {count} finished runs, {best_text}, "
                    f"none reached {key} {cmp.value} {_fmt(kill_bar)}",
                )
    best_id = best.run_id if best else None
    best_value = best.value if best else None
    summary = (
        "no finished run yet"
        if not finished
        else (
            f"{len(finished)} finished runs, best {_fmt(best_value)}"
            if best_value is not None
            else f"{len(finished)} finished runs without a {key} value"
        )
    )
    if end is not None and now >= end:
        return VerdictResult(
            Verdict.REFUTED,
            best_id,
            best_value,
            end,
            f"time-box ended {end:%Y-%m-%d %H:%M} UTC with no run reaching "
            f"{key} {cmp.value} {_fmt(bar)} ({summary})",
        )
    return VerdictResult(
        Verdict.OPEN, best_id, best_value, None, f"{summary}; needs {key} {cmp.value} {_fmt(bar)}"
    )


def _better(cmp: Comparator, value: float, current: float | None) -> bool:
    if current is None:
        return True
    return value > current if cmp.higher_is_better else value < current
