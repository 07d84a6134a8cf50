"""RACI: who is Responsible, Accountable, Consulted and Informed for each phase or
deliverable. At most one person is Accountable for a deliverable."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.planning.raci.models import RaciEntry, RaciRole
from loopwise.planning.raci.tables import RaciRow
from loopwise.projects import service as projects


def list_raci(ctx: Context, project_key: str) -> list[RaciEntry]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(RaciRow)
        .where(RaciRow.project_id == project.id)
        .order_by(RaciRow.deliverable, RaciRow.role, RaciRow.person)
    )
    return [RaciEntry(r.deliverable, r.person, RaciRole(r.role)) for r in rows]


def set_raci(
    ctx: Context, project_key: str, deliverable: str, people: Mapping[str, RaciRole]
) -> list[RaciEntry]:
    """Replace the assignments for one deliverable (an empty mapping clears it)."""
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    deliverable = deliverable.strip()
    if not deliverable or len(deliverable) > 200:
        raise InvalidInput("deliverable must have 1 to 200 characters")
    accountable = [p for p, r in people.items() if r is RaciRole.ACCOUNTABLE]
    if len(accountable) > 1:
        raise InvalidInput(
            f"only one person can be accountable for {deliverable!r}, got {', '.join(accountable)}"
        )
    if any(not p.strip() or len(p) > 200 for p in people):
        raise InvalidInput("each person needs a name of 1 to 200 characters")
    ctx.session.execute(
        delete(RaciRow).where(RaciRow.project_id == project.id, RaciRow.deliverable == deliverable)
    )
    for person, role in people.items():
        ctx.session.add(
            RaciRow(
                project_id=project.id,
                deliverable=deliverable,
                person=person.strip(),
                role=role.value,
            )
        )
    ctx.session.flush()
    return [e for e in list_raci(ctx, project_key) if e.deliverable == deliverable]
