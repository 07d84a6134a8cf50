"""REST endpoints for flow metrics and Monte Carlo forecasts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning.flow import service as flow
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["flow"])


Trials = Annotated[int, Query(ge=100, le=200_000)]


Window = Annotated[int, Query(ge=7, le=3650, description="Days of throughput history used.")]


@router.get("/projects/{key}/flow")
def flow_report(
    key: str, caller: CallerDep, days: Annotated[int, Query(ge=1, le=3650)] = 90
) -> flow.FlowReport:
    with caller.read() as ctx:
        return flow.flow_report(ctx, key, days=days)


@router.get("/projects/{key}/forecast/when")
def forecast_when(
    key: str,
    caller: CallerDep,
    items: Annotated[int | None, Query(ge=0, le=1_000_000, description="Scope size.")] = None,
    items_high: Annotated[
        int | None, Query(ge=0, le=1_000_000, description="Upper end of a scope range.")
    ] = None,
    keys: Annotated[str | None, Query(description="Comma-separated item keys.")] = None,
    window_days: Window = flow.DEFAULT_WINDOW_DAYS,
    trials: Trials = 10_000,
    data_multiplier: Annotated[float, Query(ge=1, le=10)] = flow.DATA_MULTIPLIER,
    seed: int | None = None,
) -> WhenForecast:
    """When will N items (a range, these keys, or all unfinished items) be done?"""
    scope: float | tuple[float, float] | None = None
    if items is not None:
        scope = (items, items_high) if items_high is not None else items
    item_keys = [k.strip().upper() for k in keys.split(",") if k.strip()] if keys else None
    with caller.read() as ctx:
        return flow.forecast_when(
            ctx,
            key,
            scope=scope,
            item_keys=item_keys,
            window_days=window_days,
            trials=trials,
            data_multiplier=data_multiplier,
            seed=seed,
        )


@router.get("/projects/{key}/forecast/how-many")
def forecast_how_many(
    key: str,
    by: date,
    caller: CallerDep,
    window_days: Window = flow.DEFAULT_WINDOW_DAYS,
    trials: Trials = 10_000,
    seed: int | None = None,
) -> HowManyForecast:
    """How many items will be finished from today through ``by``?"""
    with caller.read() as ctx:
        return flow.forecast_how_many(
            ctx, key, by, window_days=window_days, trials=trials, seed=seed
        )


@router.get("/projects/{key}/forecast/backtest")
def backtest(
    key: str,
    caller: CallerDep,
    horizon_weeks: Annotated[int, Query(ge=1, le=52)] = 2,
    windows: Annotated[int, Query(ge=1, le=52)] = 8,
    seed: int | None = None,
) -> flow.BacktestReport:
    with caller.read() as ctx:
        return flow.backtest(ctx, key, horizon_weeks=horizon_weeks, windows=windows, seed=seed)
