"""Discovery cycles: time-boxed blocks (three weeks by default) with a goal, the items
planned into them, and a report of what came of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.core.limits import INT32_MAX
from loopwise.planning.board import service as board
from loopwise.planning.board.models import ColumnCategory
from loopwise.planning.cycles.models import Cycle, CycleReport
from loopwise.planning.cycles.tables import CycleItemRow, CycleRow
from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.items import service as planning
from loopwise.planning.items.models import ItemKind
from loopwise.planning.items.tables import WorkItemEventRow, WorkItemRow
from loopwise.projects import service as projects


def _cycle(ctx: Context, row: CycleRow, project_key: str) -> Cycle:
    keys = ctx.session.scalars(
        select(WorkItemRow.key)
        .join(CycleItemRow, CycleItemRow.item_id == WorkItemRow.id)
        .where(CycleItemRow.cycle_id == row.id)
        .order_by(WorkItemRow.number)
    )
    return Cycle(
        row.id, project_key, row.number, row.name, row.goal, row.starts_on, row.ends_on, tuple(keys)
    )


def _row(ctx: Context, project_key: str, number: int, needed: Role) -> tuple[CycleRow, str]:
    project = projects.resolve_project(ctx, project_key, needed)
    row = (
        ctx.session.scalar(
            select(CycleRow).where(CycleRow.project_id == project.id, CycleRow.number == number)
        )
        if 0 < number <= INT32_MAX
        else None
    )
    if row is None:
        raise NotFound(f"{project.key} has no cycle {number}")
    return row, project.key


def create_cycle(
    ctx: Context,
    project_key: str,
    *,
    goal: str = "",
    name: str | None = None,
    starts_on: date | None = None,
    days: int | None = None,
) -> Cycle:
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    last = ctx.session.scalar(
        select(CycleRow).where(CycleRow.project_id == project.id).order_by(CycleRow.number.desc())
    )
    length = days or projects.cycle_days(ctx, project.id)
    if not 1 <= length <= 366:
        raise InvalidInput("a cycle lasts 1 to 366 days")
    start = starts_on or (last.ends_on + timedelta(days=1) if last else ctx.clock.now().date())
    end = start + timedelta(days=length - 1)
    overlap = ctx.session.scalar(
        select(CycleRow.name).where(
            CycleRow.project_id == project.id, CycleRow.starts_on <= end, CycleRow.ends_on >= start
        )
    )
    if overlap:
        raise Conflict(f"{start} to {end} overlaps {overlap}")
    number = (last.number if last else 0) + 1
    row = CycleRow(
        id=new_id("cyc"),
        project_id=project.id,
        number=number,
        name=(name or f"Cycle {number}")[:200],
        goal=goal,
        starts_on=start,
        ends_on=end,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _cycle(ctx, row, project.key)


def list_cycles(ctx: Context, project_key: str) -> list[Cycle]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(CycleRow).where(CycleRow.project_id == project.id).order_by(CycleRow.number)
    )
    return [_cycle(ctx, r, project.key) for r in rows]


def current_cycle(ctx: Context, project_key: str) -> Cycle | None:
    today = ctx.clock.now().date()
    return next(
        (c for c in list_cycles(ctx, project_key) if c.starts_on <= today <= c.ends_on), None
    )


def plan_items(ctx: Context, project_key: str, number: int, item_keys: Sequence[str]) -> Cycle:
    row, key = _row(ctx, project_key, number, Role.CONTRIBUTOR)
    planned = set(
        ctx.session.scalars(select(CycleItemRow.item_id).where(CycleItemRow.cycle_id == row.id))
    )
    for item_key in item_keys:
        item = planning.item_row(ctx, item_key, Role.CONTRIBUTOR)
        if item.project_id != row.project_id:
            raise InvalidInput(f"{item.key} is not in project {key}")
        if item.id not in planned:
            ctx.session.add(
                CycleItemRow(cycle_id=row.id, item_id=item.id, planned_at=ctx.clock.now())
            )
            planning.record_event(ctx, item.id, "planned", None, row.name)
            planned.add(item.id)
    ctx.session.flush()
    return _cycle(ctx, row, key)


def unplan_item(ctx: Context, project_key: str, number: int, item_key: str) -> Cycle:
    row, key = _row(ctx, project_key, number, Role.CONTRIBUTOR)
    item = planning.item_row(ctx, item_key, Role.CONTRIBUTOR)
    link = ctx.session.get(CycleItemRow, (row.id, item.id))
    if link is None:
        raise NotFound(f"{item.key} is not planned into {row.name}")
    ctx.session.delete(link)
    ctx.session.flush()
    return _cycle(ctx, row, key)


def _status_at(ctx: Context, item_ids: Sequence[str], moment: datetime) -> dict[str, str]:
    """Each item's column at ``moment``, replayed from its history."""
    status: dict[str, str] = {}
    rows = ctx.session.execute(
        select(WorkItemEventRow.item_id, WorkItemEventRow.to_value)
        .where(
            WorkItemEventRow.item_id.in_(item_ids),
            WorkItemEventRow.kind.in_(("created", "status")),
            WorkItemEventRow.at < moment,
        )
        .order_by(WorkItemEventRow.at, WorkItemEventRow.id)
    )
    for item_id, to_value in rows:
        if to_value is not None:
            status[item_id] = to_value
    return status


def report(ctx: Context, project_key: str, number: int) -> CycleReport:
    row, key = _row(ctx, project_key, number, Role.VIEWER)
    cycle = _cycle(ctx, row, key)
    tz = ctx.clock.now().tzinfo
    start = datetime.combine(row.starts_on, time.min, tzinfo=tz)
    end = min(
        datetime.combine(row.ends_on + timedelta(days=1), time.min, tzinfo=tz), ctx.clock.now()
    )
    items = ctx.session.execute(
        select(WorkItemRow.id, WorkItemRow.key)
        .join(CycleItemRow, CycleItemRow.item_id == WorkItemRow.id)
        .where(CycleItemRow.cycle_id == row.id)
        .order_by(WorkItemRow.number)
    ).all()
    categories = {c.key: c.category for c in board.columns_of(ctx, row.project_id)}
    at_end = _status_at(ctx, [i.id for i in items], end)
    done, killed, carry = [], [], []
    for item in items:
        category = categories.get(at_end.get(item.id, ""), ColumnCategory.TODO)
        if category is ColumnCategory.DONE:
            done.append(item.key)
        elif category is ColumnCategory.KILLED:
            killed.append(item.key)
        else:
            carry.append(item.key)
    resolved = ctx.session.execute(
        select(WorkItemRow.key, WorkItemRow.title, WorkItemEventRow.to_value)
        .join(WorkItemEventRow, WorkItemEventRow.item_id == WorkItemRow.id)
        .where(
            WorkItemRow.project_id == row.project_id,
            WorkItemEventRow.kind == "verdict",
            WorkItemEventRow.to_value != Verdict.OPEN.value,
            WorkItemEventRow.at >= start,
            WorkItemEventRow.at < end,
        )
        .order_by(WorkItemEventRow.at)
    ).all()
    retraining = ctx.session.scalars(
        select(WorkItemRow.key)
        .where(
            WorkItemRow.project_id == row.project_id,
            WorkItemRow.kind == ItemKind.RETRAINING.value,
            WorkItemRow.created_at >= start,
            WorkItemRow.created_at < end,
        )
        .order_by(WorkItemRow.number)
    ).all()
    return CycleReport(
        cycle=cycle,
        planned=tuple(i.key for i in items),
        done=tuple(done),
        killed=tuple(killed),
        carry_over=tuple(carry),
        hypotheses=tuple((r.key, r.title, Verdict(r.to_value)) for r in resolved),
        retraining=tuple(retraining),
    )


def cycle_count(ctx: Context, project_id: str) -> int:
    return (
        ctx.session.scalar(
            select(func.count()).select_from(CycleRow).where(CycleRow.project_id == project_id)
        )
        or 0
    )
