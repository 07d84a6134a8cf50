"""Planning use cases for work items.

Every function checks the actor's role on the project before it reads or writes.
"""

from __future__ import annotations

from sqlalchemy import func, select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.planning.board.models import DEFAULT_COLUMNS, Column, ColumnCategory
from loopwise.planning.board.tables import BoardColumnRow
from loopwise.planning.items.models import KILLABLE_KINDS, ItemEvent, ItemKind, WorkItem
from loopwise.planning.items.schemas import ItemCreate, ItemUpdate
from loopwise.planning.items.tables import WorkItemEventRow, WorkItemRow
from loopwise.projects import service as projects

# --- work items ------------------------------------------------------------------------


def columns_of(ctx: Context, project_id: str) -> list[Column]:
    """The project's workflow columns, in order (the default set until edited)."""
    rows = list(
        ctx.session.scalars(
            select(BoardColumnRow)
            .where(BoardColumnRow.project_id == project_id)
            .order_by(BoardColumnRow.position)
        )
    )
    if not rows:
        return list(DEFAULT_COLUMNS)
    return [Column(r.key, r.name, ColumnCategory(r.category), r.wip_limit) for r in rows]


def _assignee_id(ctx: Context, username: str | None) -> str | None:
    if username is None or username == "":
        return None
    return accounts.get_user(ctx.session, username).id


def item_from_row(row: WorkItemRow, project_key: str, assignee: str | None) -> WorkItem:
    return WorkItem(
        id=row.id,
        key=row.key,
        project_key=project_key,
        kind=ItemKind(row.kind),
        title=row.title,
        description=row.description,
        status=row.status,
        assignee=assignee,
        estimate=row.estimate,
        labels=tuple(row.labels),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _items(ctx: Context, rows: list[WorkItemRow]) -> list[WorkItem]:
    names = accounts.usernames(ctx.session, {r.assignee_id for r in rows if r.assignee_id})
    keys = projects.project_keys(ctx, {r.project_id for r in rows})
    return [item_from_row(r, keys[r.project_id], names.get(r.assignee_id or "")) for r in rows]


def record_event(
    ctx: Context,
    item_id: str,
    kind: str,
    from_value: str | None = None,
    to_value: str | None = None,
    note: str = "",
    *,
    system: bool = False,
) -> None:
    ctx.session.add(
        WorkItemEventRow(
            item_id=item_id,
            at=ctx.clock.now(),
            actor_id=None if system else ctx.actor.user_id,
            kind=kind,
            from_value=from_value,
            to_value=to_value,
            note=note,
        )
    )


def add_item_row(
    ctx: Context, project_key: str, data: ItemCreate, *, system: bool = False
) -> WorkItemRow:
    """A new item; ``system`` when Loopwise itself files it (a monitoring alert's
    retraining item): no user is recorded as its author."""
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    number = projects.take_number(ctx, project.id, "item")
    columns = {c.key: c for c in columns_of(ctx, project.id)}
    status = data.status or next(iter(columns))
    if status not in columns:
        raise InvalidInput(f"no column {status!r} on this board; columns: {list(columns)}")
    if columns[status].category is ColumnCategory.KILLED and data.kind not in KILLABLE_KINDS:
        raise InvalidInput("only hypotheses and experiments can be killed")
    now = ctx.clock.now()
    row = WorkItemRow(
        id=new_id("wi"),
        project_id=project.id,
        number=number,
        key=f"{project.key}-{number}",
        kind=data.kind.value,
        title=data.title,
        description=data.description,
        status=status,
        assignee_id=_assignee_id(ctx, data.assignee),
        estimate=data.estimate,
        labels=list(data.labels),
        created_by=None if system else ctx.actor.user_id,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_event(ctx, row.id, "created", None, row.status, system=system)
    return row


def create_item(ctx: Context, project_key: str, data: ItemCreate) -> WorkItem:
    if data.kind is ItemKind.HYPOTHESIS:
        raise InvalidInput("create hypotheses through the hypothesis endpoint: they need a metric")
    return _items(ctx, [add_item_row(ctx, project_key, data)])[0]


def item_row(ctx: Context, key: str, needed: Role) -> WorkItemRow:
    row = ctx.session.scalar(select(WorkItemRow).where(WorkItemRow.key == key.upper()))
    if row is None:
        raise NotFound(f"work item {key!r} not found")
    accounts.require_role(ctx, row.project_id, needed, what=f"work item {key!r}")
    return row


def get_item(ctx: Context, key: str) -> WorkItem:
    return _items(ctx, [item_row(ctx, key, Role.VIEWER)])[0]


def list_items(ctx: Context, project_key: str, *, kind: ItemKind | None = None) -> list[WorkItem]:
    project = projects.resolve_project(ctx, project_key, Role.VIEWER)
    query = select(WorkItemRow).where(WorkItemRow.project_id == project.id)
    if kind is not None:
        query = query.where(WorkItemRow.kind == kind.value)
    return _items(ctx, list(ctx.session.scalars(query.order_by(WorkItemRow.number))))


def update_item(ctx: Context, key: str, data: ItemUpdate) -> WorkItem:
    row = item_row(ctx, key, Role.CONTRIBUTOR)
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if field == "assignee":
            row.assignee_id = _assignee_id(ctx, value)
        elif field == "labels":
            row.labels = list(value or [])
        elif value is None and field in ("title", "description"):
            raise InvalidInput(f"{field} cannot be null")
        else:
            setattr(row, field, value)
        record_event(ctx, row.id, "edited", None, field)
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return _items(ctx, [row])[0]


def item_history(ctx: Context, key: str) -> list[ItemEvent]:
    row = item_row(ctx, key, Role.VIEWER)
    events = list(
        ctx.session.scalars(
            select(WorkItemEventRow)
            .where(WorkItemEventRow.item_id == row.id)
            .order_by(WorkItemEventRow.at, WorkItemEventRow.id)
        )
    )
    names = accounts.usernames(ctx.session, {e.actor_id for e in events if e.actor_id})
    return [
        ItemEvent(e.at, e.kind, e.from_value, e.to_value, e.note, names.get(e.actor_id or ""))
        for e in events
    ]


def count_items(ctx: Context, project_id: str) -> int:
    return (
        ctx.session.scalar(
            select(func.count())
            .select_from(WorkItemRow)
            .where(WorkItemRow.project_id == project_id)
        )
        or 0
    )


def item_keys(ctx: Context, item_ids: set[str]) -> dict[str, str]:
    """Item id -> key, for other slices that link to items (the caller checked access)."""
    if not item_ids:
        return {}
    rows = ctx.session.execute(
        select(WorkItemRow.id, WorkItemRow.key).where(WorkItemRow.id.in_(item_ids))
    )
    return {r.id: r.key for r in rows}
