"""The risk register: likelihood x impact on a 5x5 matrix, owners, mitigations, reviews."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.core.limits import INT32_MAX
from loopwise.planning.items import service as planning
from loopwise.planning.items.tables import WorkItemRow
from loopwise.planning.risks.models import Risk, RiskCategory, RiskStatus, risk_level
from loopwise.planning.risks.schemas import RiskCreate, RiskUpdate
from loopwise.planning.risks.tables import RiskItemRow, RiskRow
from loopwise.projects import service as projects

SCALE = range(1, 6)


@dataclass(frozen=True)
class HeatMap:
    """cells[likelihood-1][impact-1] = keys of active risks in that cell."""

    cells: tuple[tuple[tuple[str, ...], ...], ...]


def _risk(ctx: Context, row: RiskRow, project_key: str) -> Risk:
    keys = ctx.session.scalars(
        select(WorkItemRow.key)
        .join(RiskItemRow, RiskItemRow.item_id == WorkItemRow.id)
        .where(RiskItemRow.risk_id == row.id)
        .order_by(WorkItemRow.number)
    )
    status = RiskStatus(row.status)
    today = ctx.clock.now().date()
    return Risk(
        id=row.id,
        key=f"{project_key}-R{row.number}",
        project_key=project_key,
        title=row.title,
        description=row.description,
        category=RiskCategory(row.category),
        likelihood=row.likelihood,
        impact=row.impact,
        residual_likelihood=row.residual_likelihood,
        residual_impact=row.residual_impact,
        owner=row.owner,
        mitigation=row.mitigation,
        status=status,
        next_review=row.next_review,
        item_keys=tuple(keys),
        review_overdue=(
            status is not RiskStatus.CLOSED
            and row.next_review is not None
            and row.next_review < today
        ),
        score=row.likelihood * row.impact,
        residual_score=(
            row.residual_likelihood * row.residual_impact
            if row.residual_likelihood is not None and row.residual_impact is not None
            else None
        ),
        level=risk_level(row.likelihood * row.impact),
    )


def _parse_key(key: str) -> tuple[str, int]:
    project_key, sep, number = key.upper().rpartition("-R")
    if not sep or not number.isdigit() or not 0 < int(number) <= INT32_MAX:
        raise NotFound(f"risk {key!r} not found (risk keys look like CHURN-R3)")
    return project_key, int(number)


def _row(ctx: Context, key: str, needed: Role) -> tuple[RiskRow, str]:
    project_key, number = _parse_key(key)
    project = projects.resolve_project(ctx, project_key, needed)
    row = ctx.session.scalar(
        select(RiskRow).where(RiskRow.project_id == project.id, RiskRow.number == number)
    )
    if row is None:
        raise NotFound(f"risk {key!r} not found")
    return row, project.key


def create_risk(ctx: Context, project_key: str, data: RiskCreate) -> Risk:
    """Record a risk; ``data`` is validated by its schema (the same for every door)."""
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    number = projects.take_number(ctx, project.id, "risk")
    now = ctx.clock.now()
    row = RiskRow(
        id=new_id("rsk"),
        project_id=project.id,
        number=number,
        title=data.title,
        description=data.description,
        category=data.category.value,
        likelihood=data.likelihood,
        impact=data.impact,
        residual_likelihood=data.residual_likelihood,
        residual_impact=data.residual_impact,
        owner=data.owner,
        mitigation=data.mitigation,
        status=RiskStatus.OPEN.value,
        next_review=data.next_review,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    if data.items:
        link_items(ctx, f"{project.key}-R{row.number}", data.items)
    return _risk(ctx, row, project.key)


def update_risk(ctx: Context, key: str, data: RiskUpdate) -> Risk:
    """Change the fields ``data`` sets (its schema refuses nulls but for CLEARABLE ones)."""
    row, project_key = _row(ctx, key, Role.CONTRIBUTOR)
    for name, value in data.model_dump(exclude_unset=True).items():
        setattr(row, name, value.value if isinstance(value, StrEnum) else value)
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return _risk(ctx, row, project_key)


def link_items(ctx: Context, key: str, item_keys: Sequence[str]) -> Risk:
    row, project_key = _row(ctx, key, Role.CONTRIBUTOR)
    present = set(
        ctx.session.scalars(select(RiskItemRow.item_id).where(RiskItemRow.risk_id == row.id))
    )
    for item_key in item_keys:
        item = planning.item_row(ctx, item_key, Role.VIEWER)
        if item.project_id != row.project_id:
            raise InvalidInput(f"{item.key} is not in project {project_key}")
        if item.id not in present:
            ctx.session.add(RiskItemRow(risk_id=row.id, item_id=item.id))
            present.add(item.id)
    ctx.session.flush()
    return _risk(ctx, row, project_key)


def get_risk(ctx: Context, key: str) -> Risk:
    row, project_key = _row(ctx, key, Role.VIEWER)
    return _risk(ctx, row, project_key)


def list_risks(ctx: Context, project_key: str, *, include_closed: bool = True) -> list[Risk]:
    project = projects.resolve_project(ctx, project_key)
    query = select(RiskRow).where(RiskRow.project_id == project.id)
    if not include_closed:
        query = query.where(RiskRow.status != RiskStatus.CLOSED.value)
    rows = ctx.session.scalars(
        query.order_by((RiskRow.likelihood * RiskRow.impact).desc(), RiskRow.number)
    )
    return [_risk(ctx, r, project.key) for r in rows]


def heat_map(risks: Sequence[Risk]) -> HeatMap:
    """Active (not closed) risks placed by likelihood and impact."""
    cells: list[list[list[str]]] = [[[] for _ in SCALE] for _ in SCALE]
    for r in risks:
        if r.status is not RiskStatus.CLOSED:
            cells[r.likelihood - 1][r.impact - 1].append(r.key)
    return HeatMap(tuple(tuple(tuple(c) for c in row) for row in cells))
