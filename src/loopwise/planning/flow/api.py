"""REST endpoints for flow metrics and Monte Carlo forecasts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning.flow import service as flow
from loopwise.planning.flow.schemas import BacktestIn, HowManyIn, WhenIn
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["flow"])


@router.get("/projects/{key}/flow")
def flow_report(
    key: str, caller: CallerDep, days: Annotated[int, Query(ge=1, le=3650)] = 90
) -> flow.FlowReport:
    with caller.read() as ctx:
        return flow.flow_report(ctx, key, days=days)


@router.get("/projects/{key}/forecast/when")
def forecast_when(key: str, caller: CallerDep, query: Annotated[WhenIn, Query()]) -> WhenForecast:
    """When will N items (a range, these keys, or all unfinished items) be done?"""
    with caller.read() as ctx:
        return flow.forecast_when(
            ctx,
            key,
            scope=query.scope,
            item_keys=query.item_keys,
            window_days=query.window_days,
            trials=query.trials,
            data_multiplier=query.data_multiplier,
            seed=query.seed,
        )


@router.get("/projects/{key}/forecast/how-many")
def forecast_how_many(
    key: str, caller: CallerDep, query: Annotated[HowManyIn, Query()]
) -> HowManyForecast:
    """How many items will be finished from today through ``by``?"""
    with caller.read() as ctx:
        return flow.forecast_how_many(
            ctx, key, query.by, window_days=query.window_days, trials=query.trials, seed=query.seed
        )


@router.get("/projects/{key}/forecast/backtest")
def backtest(
    key: str, caller: CallerDep, query: Annotated[BacktestIn, Query()]
) -> flow.BacktestReport:
    """How often the forecast's central 85% held on the project's own past."""
    with caller.read() as ctx:
        return flow.backtest(
            ctx, key, horizon_weeks=query.horizon_weeks, windows=query.windows, seed=query.seed
        )
