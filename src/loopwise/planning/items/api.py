"""REST endpoints for work items and their history."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.board import service as board
from loopwise.planning.items import service
from loopwise.planning.items.models import ItemEvent, ItemKind, WorkItem
from loopwise.planning.items.schemas import ItemCreate, ItemUpdate, StatusChange
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["items"])


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
