"""Milestones: a group of items with a target date, and the forecast against it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.numeric.forecast import WhenForecast
from loopwise.planning.flow import service as flow
from loopwise.planning.flow.schemas import DATA_MULTIPLIER, DEFAULT_WINDOW_DAYS
from loopwise.planning.items import service as planning
from loopwise.planning.items.tables import WorkItemRow
from loopwise.planning.milestones.models import Milestone
from loopwise.planning.milestones.tables import MilestoneItemRow, MilestoneRow
from loopwise.projects import service as projects


@dataclass(frozen=True)
class MilestoneForecast:
    milestone: Milestone
    scope: float
    forecast: WhenForecast | None
    probability: float | None  # chance to be done on or before the target date
    problem: str | None  # why there is no forecast (no throughput yet, ...)


def _keys(ctx: Context, milestone_id: str) -> tuple[str, ...]:
    return tuple(
        ctx.session.scalars(
            select(WorkItemRow.key)
            .join(MilestoneItemRow, MilestoneItemRow.item_id == WorkItemRow.id)
            .where(MilestoneItemRow.milestone_id == milestone_id)
            .order_by(WorkItemRow.number)
        )
    )


def _milestone(
    ctx: Context, row: MilestoneRow, project_key: str, history: flow.History | None
) -> Milestone:
    keys = _keys(ctx, row.id)
    finished = {f.item for f in history.flows if f.finished is not None} if history else set()
    return Milestone(
        row.id,
        project_key,
        row.name,
        row.description,
        row.target_date,
        keys,
        remaining=sum(1 for k in keys if k not in finished),
    )


def _row(ctx: Context, milestone_id: str, needed: Role) -> tuple[MilestoneRow, str]:
    row = ctx.session.get(MilestoneRow, milestone_id)
    if row is None:
        raise NotFound(f"milestone {milestone_id!r} not found")
    project = projects.project_by_id(ctx, row.project_id, needed)
    return row, project.key


def create_milestone(
    ctx: Context,
    project_key: str,
    name: str,
    target_date: date,
    *,
    description: str = "",
    item_keys: Sequence[str] = (),
) -> Milestone:
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    if not name.strip() or len(name) > 200:
        raise InvalidInput("milestone name must have 1 to 200 characters")
    row = MilestoneRow(
        id=new_id("ms"),
        project_id=project.id,
        name=name.strip(),
        description=description,
        target_date=target_date,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    if item_keys:
        add_items(ctx, row.id, item_keys)
    return get_milestone(ctx, row.id)


def add_items(ctx: Context, milestone_id: str, item_keys: Sequence[str]) -> Milestone:
    row, key = _row(ctx, milestone_id, Role.CONTRIBUTOR)
    present = set(
        ctx.session.scalars(
            select(MilestoneItemRow.item_id).where(MilestoneItemRow.milestone_id == row.id)
        )
    )
    for item_key in item_keys:
        item = planning.item_row(ctx, item_key, Role.CONTRIBUTOR)
        if item.project_id != row.project_id:
            raise InvalidInput(f"{item.key} is not in project {key}")
        if item.id not in present:
            ctx.session.add(MilestoneItemRow(milestone_id=row.id, item_id=item.id))
            present.add(item.id)
    ctx.session.flush()
    return get_milestone(ctx, row.id)


def get_milestone(ctx: Context, milestone_id: str) -> Milestone:
    row, key = _row(ctx, milestone_id, Role.VIEWER)
    return _milestone(ctx, row, key, flow.load_history(ctx, key))


def list_milestones(ctx: Context, project_key: str) -> list[Milestone]:
    project = projects.resolve_project(ctx, project_key)
    history = flow.load_history(ctx, project.key)
    rows = ctx.session.scalars(
        select(MilestoneRow)
        .where(MilestoneRow.project_id == project.id)
        .order_by(MilestoneRow.target_date, MilestoneRow.name)
    )
    return [_milestone(ctx, r, project.key, history) for r in rows]


def forecast(
    ctx: Context,
    milestone_id: str,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    trials: int = 10_000,
    data_multiplier: float = DATA_MULTIPLIER,
    seed: int | None = None,
) -> MilestoneForecast:
    """When the milestone's unfinished items will be done, and the chance of the target."""
    row, key = _row(ctx, milestone_id, Role.VIEWER)
    history = flow.load_history(ctx, key)
    milestone = _milestone(ctx, row, key, history)
    scope = flow.weighted_scope(history, milestone.item_keys, data_multiplier)
    if scope == 0:
        return MilestoneForecast(milestone, 0.0, None, 1.0, None)
    try:
        result = flow.forecast_when(
            ctx, key, scope=scope, window_days=window_days, trials=trials, seed=seed
        )
    except InvalidInput as exc:
        return MilestoneForecast(milestone, scope, None, None, exc.message)
    today = ctx.clock.now().date()
    days_to_target = (row.target_date - today).days + 1
    probability = result.probability_by(days_to_target) if days_to_target > 0 else 0.0
    return MilestoneForecast(milestone, scope, result, probability, None)
