"""REST endpoints for projects, work items and hypotheses."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning import board, hypotheses, service
from loopwise.planning.models import Hypothesis, ItemEvent, ItemKind, WorkItem
from loopwise.planning.schemas import (
    HypothesisCreate,
    ItemCreate,
    ItemUpdate,
    RunLink,
    StatusChange,
)
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["planning"])


@router.get("/projects/{key}/items")
def list_items(key: str, caller: CallerDep, kind: ItemKind | None = None) -> list[WorkItem]:
    with caller.read() as ctx:
        return service.list_items(ctx, key, kind=kind)


@router.post("/projects/{key}/items", status_code=201)
def create_item(key: str, body: ItemCreate, caller: CallerDep) -> WorkItem:
    with caller.write() as ctx:
        return service.create_item(ctx, key, body)


@router.get("/items/{item_key}")
def get_item(item_key: str, caller: CallerDep) -> WorkItem:
    with caller.read() as ctx:
        return service.get_item(ctx, item_key)


@router.patch("/items/{item_key}")
def update_item(item_key: str, body: ItemUpdate, caller: CallerDep) -> WorkItem:
    with caller.write() as ctx:
        return service.update_item(ctx, item_key, body)


@router.post("/items/{item_key}/status")
def change_status(item_key: str, body: StatusChange, caller: CallerDep) -> WorkItem:
    with caller.write() as ctx:
        return board.move_item(ctx, item_key, body.status, reason=body.reason, note=body.note)


@router.get("/items/{item_key}/history")
def item_history(item_key: str, caller: CallerDep) -> list[ItemEvent]:
    with caller.read() as ctx:
        return service.item_history(ctx, item_key)


@router.get("/projects/{key}/hypotheses")
def list_hypotheses(key: str, caller: CallerDep) -> list[Hypothesis]:
    with caller.read() as ctx:
        return hypotheses.list_hypotheses(ctx, key)


@router.post("/projects/{key}/hypotheses", status_code=201)
def create_hypothesis(key: str, body: HypothesisCreate, caller: CallerDep) -> Hypothesis:
    with caller.write() as ctx:
        return hypotheses.create_hypothesis(ctx, key, body)


@router.get("/hypotheses/{item_key}")
def get_hypothesis(item_key: str, caller: CallerDep) -> Hypothesis:
    with caller.read() as ctx:
        return hypotheses.get_hypothesis(ctx, item_key)


@router.post("/hypotheses/{item_key}/runs")
def link_run(item_key: str, body: RunLink, caller: CallerDep) -> Hypothesis:
    with caller.write() as ctx:
        return hypotheses.link_runs(ctx, item_key, [body.run_id])


@router.delete("/hypotheses/{item_key}/runs/{run_id}")
def unlink_run(item_key: str, run_id: str, caller: CallerDep) -> Hypothesis:
    with caller.write() as ctx:
        return hypotheses.unlink_run(ctx, item_key, run_id)
