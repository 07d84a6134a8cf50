"""Flow metrics and Monte Carlo forecasts for a project, from its own status history.

Loads the history once (creation + status events), turns it into ``numeric.flow``
records, and hands arrays to ``numeric.forecast``. Killed items count as throughput:
stopping an experiment is finished work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import select

from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.numeric import flow as nflow
from loopwise.numeric import forecast as nforecast
from loopwise.planning.board import service as board
from loopwise.planning.board.models import Column, ColumnCategory
from loopwise.planning.flow.schemas import DATA_MULTIPLIER, DEFAULT_WINDOW_DAYS, MAX_SEED
from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.hypotheses.tables import HypothesisRow
from loopwise.planning.items.models import ItemKind
from loopwise.planning.items.tables import WorkItemEventRow, WorkItemRow
from loopwise.projects import service as projects
from loopwise.projects.models import Project

DATA_KINDS = frozenset({ItemKind.DATA_TASK})


@dataclass(frozen=True)
class History:
    project: Project
    columns: tuple[Column, ...]
    kinds: dict[str, ItemKind]  # item key -> kind
    created: dict[str, datetime]
    transitions: tuple[nflow.Transition, ...]
    flows: tuple[nflow.ItemFlow, ...]

    def finished_dates(self) -> list[date]:
        return [f.finished.date() for f in self.flows if f.finished is not None]


def load_history(ctx: Context, project_key: str) -> History:
    project = projects.resolve_project(ctx, project_key)
    cols = tuple(board.columns_of(ctx, project.id))
    items = ctx.session.execute(
        select(WorkItemRow.id, WorkItemRow.key, WorkItemRow.kind, WorkItemRow.created_at).where(
            WorkItemRow.project_id == project.id
        )
    ).all()
    key_of = {i.id: i.key for i in items}
    events = ctx.session.execute(
        select(WorkItemEventRow.item_id, WorkItemEventRow.at, WorkItemEventRow.to_value)
        .join(WorkItemRow, WorkItemRow.id == WorkItemEventRow.item_id)
        .where(WorkItemRow.project_id == project.id, WorkItemEventRow.kind == "status")
        .order_by(WorkItemEventRow.at, WorkItemEventRow.id)
    ).all()
    created = {i.key: i.created_at for i in items}
    transitions = tuple(nflow.Transition(key_of[e.item_id], e.at, e.to_value) for e in events)
    # Items created straight into a column count as entering it at creation.
    initial = {
        key_of[e.item_id]: e.to_value
        for e in ctx.session.execute(
            select(WorkItemEventRow.item_id, WorkItemEventRow.to_value)
            .join(WorkItemRow, WorkItemRow.id == WorkItemEventRow.item_id)
            .where(WorkItemRow.project_id == project.id, WorkItemEventRow.kind == "created")
        ).all()
    }
    births = tuple(
        nflow.Transition(key, created[key], status)
        for key, status in initial.items()
        if status is not None
    )
    started = [c.key for c in cols if c.category is ColumnCategory.STARTED]
    finished = [c.key for c in cols if c.category.finished]
    flows = nflow.item_flows(
        created, births + transitions, started=started, finished=finished, initial=cols[0].key
    )
    return History(
        project=project,
        columns=cols,
        kinds={i.key: ItemKind(i.kind) for i in items},
        created=created,
        transitions=births + transitions,
        flows=tuple(flows),
    )


def throughput_history(
    history: History, today: date, window_days: int = DEFAULT_WINDOW_DAYS
) -> np.ndarray:
    """Daily throughput over the ``window_days`` complete days before ``today``."""
    if not 7 <= window_days <= 3650:
        raise InvalidInput("history window must be 7 to 3650 days")
    first = today - timedelta(days=window_days)
    return nforecast.daily_throughput(history.finished_dates(), first, today - timedelta(days=1))


# --- flow metrics ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemTimes:
    key: str
    kind: ItemKind
    finished_on: date
    cycle_time: float
    lead_time: float


@dataclass(frozen=True)
class AgingItem:
    key: str
    kind: ItemKind
    status: str
    age_days: float
    over_p85: bool
    past_time_box: bool


@dataclass(frozen=True)
class FlowReport:
    project_key: str
    first: date
    last: date
    items: tuple[ItemTimes, ...]
    cycle_time_percentiles: dict[int, float]
    lead_time_percentiles: dict[int, float]
    daily_throughput: tuple[int, ...]
    weekly_throughput: tuple[tuple[date, int], ...]
    cfd: nflow.CumulativeFlow
    aging: tuple[AgingItem, ...]


def flow_report(ctx: Context, project_key: str, *, days: int = DEFAULT_WINDOW_DAYS) -> FlowReport:
    if not 1 <= days <= 3650:
        raise InvalidInput("days must be 1 to 3650")
    history = load_history(ctx, project_key)
    now = ctx.clock.now()
    last = now.date()
    first = last - timedelta(days=days - 1)
    done = [
        ItemTimes(f.item, history.kinds[f.item], f.finished.date(), f.cycle_time, f.lead_time)
        for f in history.flows
        if f.finished is not None
        and f.cycle_time is not None
        and f.lead_time is not None
        and f.finished.date() >= first
    ]
    done.sort(key=lambda t: (t.finished_on, t.key))
    cycle_pct = nflow.percentiles(t.cycle_time for t in done)
    p85 = cycle_pct.get(85)
    overdue = _past_time_box(ctx, history, now)
    aging = []
    for f in history.flows:
        age = f.age(now)
        if age is not None:
            aging.append(
                AgingItem(
                    f.item,
                    history.kinds[f.item],
                    f.status,
                    age,
                    over_p85=p85 is not None and age > p85,
                    past_time_box=f.item in overdue,
                )
            )
    aging.sort(key=lambda a: -a.age_days)
    daily = nflow.throughput(history.flows, first, last)
    return FlowReport(
        project_key=history.project.key,
        first=first,
        last=last,
        items=tuple(done),
        cycle_time_percentiles=cycle_pct,
        lead_time_percentiles=nflow.percentiles(t.lead_time for t in done),
        daily_throughput=tuple(daily),
        weekly_throughput=tuple(nflow.weekly(daily, first)),
        cfd=nflow.cumulative_flow(
            history.created,
            history.transitions,
            [c.key for c in history.columns],
            first,
            last,
            initial=history.columns[0].key,
        ),
        aging=tuple(aging),
    )


def _past_time_box(ctx: Context, history: History, now: datetime) -> set[str]:
    rows = ctx.session.execute(
        select(WorkItemRow.key)
        .join(HypothesisRow, HypothesisRow.item_id == WorkItemRow.id)
        .where(
            WorkItemRow.project_id == history.project.id,
            HypothesisRow.verdict == Verdict.OPEN.value,
            HypothesisRow.time_box_end < now,
        )
    ).scalars()
    return set(rows)


# --- forecasts -------------------------------------------------------------------------


def weighted_scope(
    history: History, keys: Sequence[str], data_multiplier: float = DATA_MULTIPLIER
) -> float:
    """Unfinished items among ``keys``; data-preparation kinds weigh ``data_multiplier``."""
    finished = {f.item for f in history.flows if f.finished is not None}
    unknown = [k for k in keys if k not in history.kinds]
    if unknown:
        raise InvalidInput(f"not items of {history.project.key}: {', '.join(unknown[:5])}")
    return sum(
        data_multiplier if history.kinds[k] in DATA_KINDS else 1.0
        for k in keys
        if k not in finished
    )


def remaining_keys(history: History) -> list[str]:
    finished = {f.item for f in history.flows if f.finished is not None}
    return [k for k in history.kinds if k not in finished]


def _rng(seed: int | None) -> np.random.Generator:
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"seed must be a whole number from 0 to {MAX_SEED}, not {seed}")
    return np.random.default_rng(seed)


def forecast_when(
    ctx: Context,
    project_key: str,
    *,
    scope: float | tuple[float, float] | None = None,
    item_keys: Sequence[str] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    trials: int = nforecast.DEFAULT_TRIALS,
    data_multiplier: float = DATA_MULTIPLIER,
    seed: int | None = None,
) -> nforecast.WhenForecast:
    """When will ``scope`` items (or these items, or all unfinished ones) be done?"""
    _check_trials(trials)
    rng = _rng(seed)
    if data_multiplier < 1:
        raise InvalidInput("data multiplier must be at least 1")
    history = load_history(ctx, project_key)
    if scope is None:
        keys = list(item_keys) if item_keys is not None else remaining_keys(history)
        scope = weighted_scope(history, keys, data_multiplier)
    today = ctx.clock.now().date()
    hist = throughput_history(history, today, window_days)
    try:
        return nforecast.forecast_when(hist, scope, today, trials=trials, rng=rng)
    except nforecast.ForecastError as exc:
        raise InvalidInput(str(exc)) from exc


def forecast_how_many(
    ctx: Context,
    project_key: str,
    by: date,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    trials: int = nforecast.DEFAULT_TRIALS,
    seed: int | None = None,
) -> nforecast.HowManyForecast:
    """How many items will be finished from today through ``by`` (inclusive)?"""
    _check_trials(trials)
    rng = _rng(seed)
    history = load_history(ctx, project_key)
    today = ctx.clock.now().date()
    if by < today:
        raise InvalidInput(f"{by} is in the past")
    hist = throughput_history(history, today, window_days)
    try:
        return nforecast.forecast_how_many(hist, (by - today).days + 1, trials=trials, rng=rng)
    except nforecast.ForecastError as exc:
        raise InvalidInput(str(exc)) from exc


@dataclass(frozen=True)
class BacktestReport:
    project_key: str
    horizon_days: int
    windows: tuple[nforecast.BacktestWindow, ...]
    hit_rate: float  # share of windows whose actual count fell in the central 85% interval
    p85_rate: float  # share that finished at least the P85 count (well calibrated: ~0.85)


def backtest(
    ctx: Context,
    project_key: str,
    *,
    horizon_weeks: int = 2,
    windows: int = 8,
    seed: int | None = None,
) -> BacktestReport:
    """Hide the last weeks of history, forecast them from what came before, compare."""
    if not 1 <= horizon_weeks <= 52 or not 1 <= windows <= 52:
        raise InvalidInput("horizon and windows must be 1 to 52")
    rng = _rng(seed)
    history = load_history(ctx, project_key)
    today = ctx.clock.now().date()
    if not history.created:
        raise InvalidInput("the project has no items yet")
    first = min(history.created.values()).date()
    try:
        hist = nforecast.daily_throughput(
            history.finished_dates(), first, today - timedelta(days=1)
        )
        result = nforecast.backtest(hist, horizon_weeks * 7, windows=windows, rng=rng)
    except nforecast.ForecastError as exc:
        raise InvalidInput(str(exc)) from exc
    return BacktestReport(
        history.project.key, result.horizon_days, result.windows, result.hit_rate, result.p85_rate
    )


def _check_trials(trials: int) -> None:
    if not 100 <= trials <= 200_000:
        raise InvalidInput("trials must be 100 to 200000")
