"""REST endpoints for milestones and their forecasts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from loopwise.planning.flow.schemas import ForecastIn
from loopwise.planning.items.schemas import ItemKeys
from loopwise.planning.milestones import service as milestones
from loopwise.planning.milestones.models import Milestone
from loopwise.planning.milestones.schemas import MilestoneCreate
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["milestones"])


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
    milestone_id: str, caller: CallerDep, query: Annotated[ForecastIn, Query()]
) -> milestones.MilestoneForecast:
    with caller.read() as ctx:
        return milestones.forecast(
            ctx, milestone_id, window_days=query.window_days, trials=query.trials, seed=query.seed
        )
