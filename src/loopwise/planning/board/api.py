"""REST endpoints for the board, its columns and the Definition of Done."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.planning.board import done
from loopwise.planning.board import service as board
from loopwise.planning.board.models import Board, Column, DoneCheck, ItemCheck
from loopwise.planning.board.schemas import CheckIn, ColumnsIn, DoneTemplateIn, WipLimitIn
from loopwise.planning.items.models import ItemKind
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["board"])


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
