"""REST endpoints for the board, Definition of Done, cycles, flow metrics, forecasts,
milestones, the risk register, RACI and the portfolio."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from loopwise.numeric.forecast import HowManyForecast, WhenForecast
from loopwise.planning import board, cycles, done, flow, milestones, portfolio, raci, risks
from loopwise.planning.models import (
    Board,
    Column,
    Cycle,
    CycleReport,
    DoneCheck,
    ItemCheck,
    ItemKind,
    Milestone,
    RaciEntry,
    Risk,
)
from loopwise.planning.schemas import (
    CheckIn,
    ColumnsIn,
    CycleCreate,
    DoneTemplateIn,
    ItemKeys,
    MilestoneCreate,
    RaciSet,
    RiskCreate,
    RiskUpdate,
    WipLimitIn,
)
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["board"])
Trials = Annotated[int, Query(ge=100, le=200_000)]
Window = Annotated[int, Query(ge=7, le=3650, description="Days of throughput history used.")]


@router.get("/projects/{key}/board")
def get_board(
    key: str,
    caller: CallerDep,
    kind: ItemKind | None = None,
    assignee: str | None = None,
    label: str | None = None,
    cycle: int | None = None,
) -> Board:
    where = board.BoardFilter(kind=kind, assignee=assignee, label=label, cycle=cycle)
    with caller.read() as ctx:
        return board.board(ctx, key, where)


@router.get("/projects/{key}/columns")
def get_columns(key: str, caller: CallerDep) -> list[Column]:
    with caller.read() as ctx:
        return board.get_columns(ctx, key)


@router.put("/projects/{key}/columns")
def set_columns(key: str, body: ColumnsIn, caller: CallerDep) -> list[Column]:
    columns = [Column(c.key, c.name, c.category, c.wip_limit) for c in body.columns]
    with caller.write() as ctx:
        return board.set_columns(ctx, key, columns)


@router.put("/projects/{key}/columns/{column}/wip-limit")
def set_wip_limit(key: str, column: str, body: WipLimitIn, caller: CallerDep) -> Column:
    with caller.write() as ctx:
        return board.set_wip_limit(ctx, key, column, body.wip_limit)


@router.get("/projects/{key}/done-rules")
def get_done_rules(key: str, caller: CallerDep) -> dict[ItemKind, tuple[DoneCheck, ...]]:
    with caller.read() as ctx:
        return done.templates(ctx, key)


@router.put("/projects/{key}/done-rules/{kind}")
def set_done_rule(
    key: str, kind: ItemKind, body: DoneTemplateIn, caller: CallerDep
) -> tuple[DoneCheck, ...]:
    checks = [DoneCheck(c.text, c.rule) for c in body.checks]
    with caller.write() as ctx:
        return done.set_template(ctx, key, kind, checks)


@router.get("/items/{item_key}/checks")
def get_checks(item_key: str, caller: CallerDep) -> list[ItemCheck]:
    with caller.read() as ctx:
        return done.get_checks(ctx, item_key)


@router.post("/items/{item_key}/checks")
def set_check(item_key: str, body: CheckIn, caller: CallerDep) -> list[ItemCheck]:
    with caller.write() as ctx:
        return done.set_check(ctx, item_key, body.text, body.checked)


@router.get("/projects/{key}/cycles")
def list_cycles(key: str, caller: CallerDep) -> list[Cycle]:
    with caller.read() as ctx:
        return cycles.list_cycles(ctx, key)


@router.post("/projects/{key}/cycles", status_code=201)
def create_cycle(key: str, body: CycleCreate, caller: CallerDep) -> Cycle:
    with caller.write() as ctx:
        return cycles.create_cycle(
            ctx, key, goal=body.goal, name=body.name, starts_on=body.starts_on, days=body.days
        )


@router.post("/projects/{key}/cycles/{number}/items")
def plan_items(key: str, number: int, body: ItemKeys, caller: CallerDep) -> Cycle:
    with caller.write() as ctx:
        return cycles.plan_items(ctx, key, number, body.items)


@router.delete("/projects/{key}/cycles/{number}/items/{item_key}")
def unplan_item(key: str, number: int, item_key: str, caller: CallerDep) -> Cycle:
    with caller.write() as ctx:
        return cycles.unplan_item(ctx, key, number, item_key)


@router.get("/projects/{key}/cycles/{number}/report")
def cycle_report(key: str, number: int, caller: CallerDep) -> CycleReport:
    with caller.read() as ctx:
        return cycles.report(ctx, key, number)


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


@router.get("/projects/{key}/milestones")
def list_milestones(key: str, caller: CallerDep) -> list[Milestone]:
    with caller.read() as ctx:
        return milestones.list_milestones(ctx, key)


@router.post("/projects/{key}/milestones", status_code=201)
def create_milestone(key: str, body: MilestoneCreate, caller: CallerDep) -> Milestone:
    with caller.write() as ctx:
        return milestones.create_milestone(
            ctx,
            key,
            body.name,
            body.target_date,
            description=body.description,
            item_keys=body.items,
        )


@router.get("/milestones/{milestone_id}")
def get_milestone(milestone_id: str, caller: CallerDep) -> Milestone:
    with caller.read() as ctx:
        return milestones.get_milestone(ctx, milestone_id)


@router.post("/milestones/{milestone_id}/items")
def add_milestone_items(milestone_id: str, body: ItemKeys, caller: CallerDep) -> Milestone:
    with caller.write() as ctx:
        return milestones.add_items(ctx, milestone_id, body.items)


@router.get("/milestones/{milestone_id}/forecast")
def milestone_forecast(
    milestone_id: str,
    caller: CallerDep,
    window_days: Window = flow.DEFAULT_WINDOW_DAYS,
    trials: Trials = 10_000,
    seed: int | None = None,
) -> milestones.MilestoneForecast:
    with caller.read() as ctx:
        return milestones.forecast(
            ctx, milestone_id, window_days=window_days, trials=trials, seed=seed
        )


@router.get("/projects/{key}/risks")
def list_risks(key: str, caller: CallerDep, include_closed: bool = True) -> list[Risk]:
    with caller.read() as ctx:
        return risks.list_risks(ctx, key, include_closed=include_closed)


@router.get("/projects/{key}/risks/heat-map")
def heat_map(key: str, caller: CallerDep) -> risks.HeatMap:
    with caller.read() as ctx:
        return risks.heat_map(risks.list_risks(ctx, key, include_closed=False))


@router.post("/projects/{key}/risks", status_code=201)
def create_risk(key: str, body: RiskCreate, caller: CallerDep) -> Risk:
    data = body.model_dump(exclude={"items"})
    with caller.write() as ctx:
        return risks.create_risk(ctx, key, **data, item_keys=body.items)


@router.get("/risks/{risk_key}")
def get_risk(risk_key: str, caller: CallerDep) -> Risk:
    with caller.read() as ctx:
        return risks.get_risk(ctx, risk_key)


@router.patch("/risks/{risk_key}")
def update_risk(risk_key: str, body: RiskUpdate, caller: CallerDep) -> Risk:
    with caller.write() as ctx:
        return risks.update_risk(ctx, risk_key, **body.model_dump(exclude_unset=True))


@router.post("/risks/{risk_key}/items")
def link_risk_items(risk_key: str, body: ItemKeys, caller: CallerDep) -> Risk:
    with caller.write() as ctx:
        return risks.link_items(ctx, risk_key, body.items)


@router.get("/projects/{key}/raci")
def list_raci(key: str, caller: CallerDep) -> list[RaciEntry]:
    with caller.read() as ctx:
        return raci.list_raci(ctx, key)


@router.put("/projects/{key}/raci")
def set_raci(key: str, body: RaciSet, caller: CallerDep) -> list[RaciEntry]:
    with caller.write() as ctx:
        return raci.set_raci(ctx, key, body.deliverable, body.people)


@router.get("/portfolio")
def get_portfolio(caller: CallerDep) -> list[portfolio.ProjectSummary]:
    with caller.read() as ctx:
        return portfolio.portfolio(ctx)
