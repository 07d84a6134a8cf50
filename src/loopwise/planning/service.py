"""Planning use cases for projects and work items.

Every function checks the actor's role on the project before it reads or writes.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.db.insert import insert_missing
from loopwise.planning.models import (
    DEFAULT_COLUMNS,
    KILLABLE_KINDS,
    Charter,
    Column,
    ColumnCategory,
    ItemEvent,
    ItemKind,
    Phase,
    Project,
    WorkItem,
)
from loopwise.planning.schemas import (
    CharterIn,
    ItemCreate,
    ItemUpdate,
    ProjectCreate,
    ProjectUpdate,
)
from loopwise.planning.tables import BoardColumnRow, ProjectRow, WorkItemEventRow, WorkItemRow

_CHARTER = TypeAdapter(Charter)


def _charter_json(charter: CharterIn) -> dict[str, Any]:
    return charter.model_dump(mode="json")


def project_from_row(row: ProjectRow) -> Project:
    return Project(
        id=row.id,
        key=row.key,
        name=row.name,
        description=row.description,
        phase=Phase(row.phase),
        charter=_CHARTER.validate_python(row.charter),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- projects --------------------------------------------------------------------------


def _project_row(ctx: Context, key: str, needed: Role) -> ProjectRow:
    row = ctx.session.scalar(select(ProjectRow).where(ProjectRow.key == key.upper()))
    if row is None:
        raise NotFound(f"project {key!r} not found")
    accounts.require_role(ctx, row.id, needed, what=f"project {key!r}")
    return row


def resolve_project(ctx: Context, key: str, needed: Role = Role.VIEWER) -> Project:
    """The project with this key, if the actor holds ``needed`` on it."""
    return project_from_row(_project_row(ctx, key, needed))


def project_by_id(ctx: Context, project_id: str, needed: Role = Role.VIEWER) -> Project:
    row = ctx.session.get(ProjectRow, project_id)
    if row is None:
        raise NotFound("project not found")
    accounts.require_role(ctx, row.id, needed)
    return project_from_row(row)


def project_keys(ctx: Context, project_ids: set[str]) -> dict[str, str]:
    rows = ctx.session.execute(
        select(ProjectRow.id, ProjectRow.key).where(ProjectRow.id.in_(project_ids))
    )
    return {r.id: r.key for r in rows}


def key_taken(ctx: Context, key: str) -> bool:
    """Whether any project has this key (visible to the caller or not)."""
    return (
        ctx.session.scalar(select(ProjectRow.id).where(ProjectRow.key == key.upper())) is not None
    )


def _new_project(ctx: Context, data: ProjectCreate) -> dict[str, Any]:
    now = ctx.clock.now()
    return {
        "id": new_id("prj"),
        "key": data.key,
        "name": data.name,
        "description": data.description,
        "phase": data.phase.value,
        "charter": _charter_json(data.charter),
        "next_item_number": 1,
        "created_by": ctx.actor.user_id,
        "created_at": now,
        "updated_at": now,
    }


def create_project(ctx: Context, data: ProjectCreate) -> Project:
    if ctx.session.scalar(select(ProjectRow.id).where(ProjectRow.key == data.key)):
        raise AlreadyExists(f"project key {data.key!r} is taken")
    row = ProjectRow(**_new_project(ctx, data))
    ctx.session.add(row)
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # a concurrent create took the key first
        raise Conflict(f"project key {data.key!r} is taken") from exc
    accounts.grant_creator(ctx.session, ctx.clock, row.id, ctx.actor)
    return project_from_row(row)


def ensure_project(ctx: Context, data: ProjectCreate, needed: Role = Role.VIEWER) -> Project:
    """The project with ``data.key``, created from ``data`` when there is none.

    Idempotent under concurrency (projects made on first use, like MLflow's): callers
    racing to create it all get the one project, and only the caller whose insert won
    is its creator (admin). Like ``resolve_project``, the caller must hold ``needed``."""
    if ctx.session.scalar(select(ProjectRow.id).where(ProjectRow.key == data.key)) is None:
        values = _new_project(ctx, data)
        if insert_missing(ctx.session, ProjectRow, values):
            accounts.grant_creator(ctx.session, ctx.clock, values["id"], ctx.actor)
    return resolve_project(ctx, data.key, needed)


def list_projects(ctx: Context) -> list[Project]:
    query = select(ProjectRow).order_by(ProjectRow.name)
    visible = accounts.visible_project_ids(ctx)
    if visible is not None:
        query = query.where(ProjectRow.id.in_(visible))
    return [project_from_row(r) for r in ctx.session.scalars(query)]


def update_project(ctx: Context, key: str, data: ProjectUpdate) -> Project:
    row = _project_row(ctx, key, Role.MAINTAINER)
    if data.name is not None:
        row.name = data.name
    if data.description is not None:
        row.description = data.description
    if data.phase is not None:
        row.phase = data.phase.value
    if data.charter is not None:
        row.charter = _charter_json(data.charter)
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return project_from_row(row)


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
    keys = project_keys(ctx, {r.project_id for r in rows})
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


def add_item_row(ctx: Context, project_key: str, data: ItemCreate) -> WorkItemRow:
    project = _project_row(ctx, project_key, Role.CONTRIBUTOR)
    # Atomic counter bump: two concurrent creators never get the same number.
    number = ctx.session.scalar(
        update(ProjectRow)
        .where(ProjectRow.id == project.id)
        .values(next_item_number=ProjectRow.next_item_number + 1)
        .returning(ProjectRow.next_item_number)
    )
    assert number is not None
    number -= 1
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
        created_by=ctx.actor.user_id,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    record_event(ctx, row.id, "created", None, row.status)
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
    project = _project_row(ctx, project_key, Role.VIEWER)
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
