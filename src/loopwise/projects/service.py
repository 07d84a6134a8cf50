"""Project use cases: create, find by key or id, list what the actor may see, update;
phase changes (asked of ``ctx.hooks.phase_checks``, kept in a phase history); the
per-project counters that number work items and risks.

Every lookup checks the actor's role on the project (accounts) before it returns.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import TypeAdapter
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Membership, Role
from loopwise.accounts.schemas import MemberSet
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.db.insert import insert_missing
from loopwise.projects.models import Charter, Phase, PhaseChange, Project, ProjectCreated
from loopwise.projects.schemas import CharterIn, ProjectCreate, ProjectUpdate
from loopwise.projects.tables import PhaseChangeRow, ProjectRow

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
    audit.record(ctx, "project.create", f"project:{row.id}", payload={"key": row.key})
    accounts.grant_creator(ctx.session, ctx.clock, row.id, ctx.actor)
    ctx.publish(ProjectCreated(row.id, row.key))
    return project_from_row(row)


def ensure_project(ctx: Context, data: ProjectCreate, needed: Role = Role.VIEWER) -> Project:
    """The project with ``data.key``, created from ``data`` when there is none.

    Idempotent under concurrency (projects made on first use, like MLflow's): callers
    racing to create it all get the one project, and only the caller whose insert won
    is its creator (admin). Like ``resolve_project``, the caller must hold ``needed``."""
    if ctx.session.scalar(select(ProjectRow.id).where(ProjectRow.key == data.key)) is None:
        values = _new_project(ctx, data)
        if insert_missing(ctx.session, ProjectRow, values):
            audit.record(
                ctx, "project.create", f"project:{values['id']}", payload={"key": data.key}
            )
            accounts.grant_creator(ctx.session, ctx.clock, values["id"], ctx.actor)
            ctx.publish(ProjectCreated(values["id"], values["key"]))
    return resolve_project(ctx, data.key, needed)


def list_projects(ctx: Context) -> list[Project]:
    query = select(ProjectRow).order_by(ProjectRow.name)
    visible = accounts.visible_project_ids(ctx)
    if visible is not None:
        query = query.where(ProjectRow.id.in_(visible))
    return [project_from_row(r) for r in ctx.session.scalars(query)]


def update_project(ctx: Context, key: str, data: ProjectUpdate) -> Project:
    """Edit a project; a new phase goes through ``change_phase`` (checked, recorded)."""
    row = _project_row(ctx, key, Role.MAINTAINER)
    if data.phase is not None:
        change_phase(ctx, key, data.phase)
    if data.name is not None:
        row.name = data.name
    if data.description is not None:
        row.description = data.description
    if data.charter is not None:
        row.charter = _charter_json(data.charter)
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return project_from_row(row)


# --- members ---------------------------------------------------------------------------


def list_members(ctx: Context, key: str) -> list[Membership]:
    """The project's members and their roles (any member may see them)."""
    return accounts.list_members(ctx, resolve_project(ctx, key).id)


def set_member(ctx: Context, key: str, data: MemberSet) -> Membership:
    """Add a user to the project or change their role (project admins only)."""
    return accounts.set_member(ctx, resolve_project(ctx, key).id, data.username, data.role)


def remove_member(ctx: Context, key: str, username: str) -> None:
    """Take a user off the project (project admins only)."""
    accounts.remove_member(ctx, resolve_project(ctx, key).id, username)


# --- phases ----------------------------------------------------------------------------


def change_phase(
    ctx: Context, key: str, to: Phase, *, reason: str = "", override: bool = False
) -> Project:
    """Move a project to another CRISP-DM phase.

    Every check in ``ctx.hooks.phase_checks`` is asked (governance: the exit gates of the
    phases left behind); while one fails the change is refused, listing what is missing,
    unless a project admin overrides with a reason. Every change is recorded: from, to,
    who, when, the reason, and whether (and past what) it was overridden."""
    row = _project_row(ctx, key, Role.MAINTAINER)
    current = Phase(row.phase)
    if current is to:
        return project_from_row(row)
    project = project_from_row(row)
    results = [r for check in ctx.hooks.phase_checks for r in check(ctx, project, current, to)]
    unmet = [f"{r.name}: {r.detail}" if r.detail else r.name for r in results if not r.passed]
    if override:
        if not reason.strip():
            raise InvalidInput("an override needs a reason; it is recorded")
        accounts.require_role(ctx, row.id, Role.ADMIN, what=f"project {key!r}")
    if unmet and not override:
        raise Conflict(
            f"{row.key} cannot move from {current.label} to {to.label} yet: "
            + "; ".join(unmet)
            + " (a project admin may override with a reason)"
        )
    now = ctx.clock.now()
    ctx.session.add(
        PhaseChangeRow(
            project_id=row.id,
            at=now,
            from_phase=current.value,
            to_phase=to.value,
            actor_id=ctx.actor.user_id,
            reason=reason.strip(),
            override=bool(unmet) and override,
            unmet=unmet if override else [],
        )
    )
    overridden = bool(unmet) and override
    audit.record(
        ctx,
        f"project.phase:{to.value}",
        f"project:{row.id}",
        outcome="override" if overridden else "ok",
        reason=reason.strip() or None,
        payload={"from": current.value, "to": to.value, "unmet": unmet if override else []},
    )
    row.phase = to.value
    row.updated_at = now
    ctx.session.flush()
    return project_from_row(row)


def phase_history(ctx: Context, key: str) -> list[PhaseChange]:
    """The project's phase changes, oldest first."""
    row = _project_row(ctx, key, Role.VIEWER)
    changes = list(
        ctx.session.scalars(
            select(PhaseChangeRow)
            .where(PhaseChangeRow.project_id == row.id)
            .order_by(PhaseChangeRow.at, PhaseChangeRow.id)
        )
    )
    names = accounts.usernames(ctx.session, {c.actor_id for c in changes if c.actor_id})
    return [
        PhaseChange(
            at=c.at,
            from_phase=Phase(c.from_phase),
            to_phase=Phase(c.to_phase),
            actor=names.get(c.actor_id or ""),
            reason=c.reason,
            override=c.override,
            unmet=tuple(c.unmet),
        )
        for c in changes
    ]


# --- what other slices keep per project -------------------------------------------------


def take_number(ctx: Context, project_id: str, counter: Literal["item", "risk"]) -> int:
    """The next number of a work item (``CHURN-12``) or a risk (``CHURN-R3``) in the
    project: an atomic bump, so two concurrent creators never get the same one."""
    column = ProjectRow.next_item_number if counter == "item" else ProjectRow.next_risk_number
    taken: int | None = ctx.session.scalar(
        update(ProjectRow)
        .where(ProjectRow.id == project_id)
        .values({column: column + 1})
        .returning(column)
    )
    if taken is None:
        raise NotFound("project not found")
    return taken - 1


def cycle_days(ctx: Context, project_id: str) -> int:
    """How long the project's discovery cycles last by default."""
    days = ctx.session.scalar(select(ProjectRow.cycle_days).where(ProjectRow.id == project_id))
    if days is None:
        raise NotFound("project not found")
    return days
