"""REST endpoints for discovery cycles."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.cycles import service as cycles
from loopwise.planning.cycles.models import Cycle, CycleReport
from loopwise.planning.cycles.schemas import CycleCreate
from loopwise.planning.items.schemas import ItemKeys
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["cycles"])


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
