"""The board: workflow columns with WIP limits, moves between them, and the card view.

``decide_move`` is the pure rule; ``move_item`` feeds it and records the outcome. A move
past a WIP limit, or to a done column with Definition-of-Done checks unmet, is refused
with the reasons unless the mover gives a reason of their own, which goes into the
item's history next to what it overrode.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.planning.board import done
from loopwise.planning.board.models import Board, BoardCard, BoardColumn, Column, ColumnCategory
from loopwise.planning.board.tables import BoardColumnRow
from loopwise.planning.cycles.tables import CycleItemRow, CycleRow
from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.hypotheses.tables import HypothesisRow
from loopwise.planning.items import service as planning
from loopwise.planning.items.models import KILLABLE_KINDS, ItemKind, WorkItem
from loopwise.planning.items.tables import WorkItemEventRow, WorkItemRow
from loopwise.projects import service as projects

CARDS_PER_COLUMN = 200


@dataclass(frozen=True)
class MoveDecision:
    """Why a move needs a reason (empty: it does not), or why it can never happen."""

    problems: tuple[str, ...] = ()
    forbidden: str | None = None

    def allowed(self, reason: str) -> bool:
        return self.forbidden is None and (not self.problems or bool(reason.strip()))


def decide_move(
    kind: ItemKind, target: Column, occupants: int, unmet_checks: Sequence[str]
) -> MoveDecision:
    """Pure rule for moving one item of ``kind`` into ``target``.

    ``occupants``: items already in the target column (the mover not counted).
    """
    if target.category is ColumnCategory.KILLED and kind not in KILLABLE_KINDS:
        return MoveDecision(forbidden="only hypotheses and experiments can be killed")
    problems = []
    if target.wip_limit is not None and occupants >= target.wip_limit:
        problems.append(f"{target.name} is at its WIP limit ({occupants} of {target.wip_limit})")
    if target.category is ColumnCategory.DONE and unmet_checks:
        problems.append("Definition of Done not met: " + "; ".join(unmet_checks))
    return MoveDecision(problems=tuple(problems))


# --- columns ---------------------------------------------------------------------------


columns_of = planning.columns_of


def get_columns(ctx: Context, project_key: str) -> list[Column]:
    return columns_of(ctx, projects.resolve_project(ctx, project_key).id)


def _counts(ctx: Context, project_id: str) -> dict[str, int]:
    rows = ctx.session.execute(
        select(WorkItemRow.status, func.count())
        .where(WorkItemRow.project_id == project_id)
        .group_by(WorkItemRow.status)
    ).all()
    return {status: count for status, count in rows}


def set_columns(ctx: Context, project_key: str, columns: Sequence[Column]) -> list[Column]:
    """Replace the workflow. Columns that still hold items cannot be dropped."""
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    keys = [c.key for c in columns]
    if len(set(keys)) != len(keys):
        raise InvalidInput("column keys must be unique")
    categories = {c.category for c in columns}
    if ColumnCategory.TODO not in categories or ColumnCategory.DONE not in categories:
        raise InvalidInput("a workflow needs at least one todo column and one done column")
    for c in columns:
        if c.wip_limit is not None and c.wip_limit < 1:
            raise InvalidInput(f"WIP limit of {c.name} must be at least 1 (or none)")
    stranded = {k: n for k, n in _counts(ctx, project.id).items() if k not in keys and n}
    if stranded:
        listing = ", ".join(f"{k} ({n})" for k, n in sorted(stranded.items()))
        raise Conflict(f"columns still hold items: {listing}; move them first")
    ctx.session.execute(delete(BoardColumnRow).where(BoardColumnRow.project_id == project.id))
    for position, c in enumerate(columns):
        ctx.session.add(
            BoardColumnRow(
                project_id=project.id,
                key=c.key,
                name=c.name,
                position=position,
                category=c.category.value,
                wip_limit=c.wip_limit,
            )
        )
    ctx.session.flush()
    return list(columns)


def set_wip_limit(ctx: Context, project_key: str, column_key: str, limit: int | None) -> Column:
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    cols = columns_of(ctx, project.id)
    if column_key not in {c.key for c in cols}:
        raise InvalidInput(f"no column {column_key!r}; columns: {[c.key for c in cols]}")
    updated = [Column(c.key, c.name, c.category, limit) if c.key == column_key else c for c in cols]
    set_columns(ctx, project_key, updated)
    return next(c for c in updated if c.key == column_key)


# --- moves -----------------------------------------------------------------------------


def move_item(
    ctx: Context, item_key: str, to: str, *, reason: str = "", note: str = ""
) -> WorkItem:
    item = planning.item_row(ctx, item_key, Role.CONTRIBUTOR)
    cols = {c.key: c for c in columns_of(ctx, item.project_id)}
    target = cols.get(to)
    if target is None:
        raise InvalidInput(f"no column {to!r} on this board; columns: {list(cols)}")
    if item.status == to:
        return planning.get_item(ctx, item_key)
    occupants = _counts(ctx, item.project_id).get(to, 0)
    unmet = done.unmet(ctx, item) if target.category is ColumnCategory.DONE else []
    decision = decide_move(ItemKind(item.kind), target, occupants, unmet)
    if decision.forbidden:
        raise InvalidInput(decision.forbidden)
    if not decision.allowed(reason):
        raise Conflict(
            f"cannot move {item.key} to {target.name}: "
            + "; ".join(decision.problems)
            + ". Give a reason to move it anyway."
        )
    text = note
    if decision.problems:
        text = f"override: {reason.strip()} [{'; '.join(decision.problems)}]" + (
            f" — {note}" if note else ""
        )
    planning.record_event(ctx, item.id, "status", item.status, to, text)
    audit.record(
        ctx,
        f"item.status:{to}",
        f"item:{item.id}",
        outcome="override" if decision.problems else "ok",
        reason=reason.strip() if decision.problems else None,
        payload={"from": item.status, "to": to, "note": note, "problems": decision.problems},
    )
    item.status = to
    item.updated_at = ctx.clock.now()
    ctx.session.flush()
    return planning.get_item(ctx, item_key)


# --- the board view --------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilter:
    kind: ItemKind | None = None
    assignee: str | None = None
    label: str | None = None
    cycle: int | None = None


def started_at(
    ctx: Context, item_ids: Sequence[str], started_keys: set[str]
) -> dict[str, datetime]:
    """When each item first entered a started column."""
    if not item_ids or not started_keys:
        return {}
    rows = ctx.session.execute(
        select(WorkItemEventRow.item_id, func.min(WorkItemEventRow.at))
        .where(
            WorkItemEventRow.item_id.in_(item_ids),
            WorkItemEventRow.kind.in_(("status", "created")),
            WorkItemEventRow.to_value.in_(started_keys),
        )
        .group_by(WorkItemEventRow.item_id)
    ).all()
    return {item_id: at for item_id, at in rows}


def board(ctx: Context, project_key: str, where: BoardFilter | None = None) -> Board:
    where = where or BoardFilter()
    project = projects.resolve_project(ctx, project_key)
    cols = columns_of(ctx, project.id)
    counts = _counts(ctx, project.id)
    query = select(WorkItemRow).where(WorkItemRow.project_id == project.id)
    if where.kind is not None:
        query = query.where(WorkItemRow.kind == where.kind.value)
    if where.assignee:
        query = query.where(
            WorkItemRow.assignee_id == accounts.get_user(ctx.session, where.assignee).id
        )
    cycle_of: dict[str, str] = {}  # item id -> its latest cycle's name
    in_cycle: set[str] = set()  # item ids planned into the filtered cycle
    for item_id, name, number in ctx.session.execute(
        select(CycleItemRow.item_id, CycleRow.name, CycleRow.number)
        .join(CycleRow, CycleRow.id == CycleItemRow.cycle_id)
        .where(CycleRow.project_id == project.id)
        .order_by(CycleRow.number)
    ):
        cycle_of[item_id] = name
        if number == where.cycle:
            in_cycle.add(item_id)
    rows = list(ctx.session.scalars(query.order_by(WorkItemRow.updated_at.desc())))
    if where.label:
        rows = [r for r in rows if where.label in r.labels]
    if where.cycle is not None:
        rows = [r for r in rows if r.id in in_cycle]
    started_keys = {c.key for c in cols if c.category is ColumnCategory.STARTED}
    starts = started_at(ctx, [r.id for r in rows if r.status in started_keys], started_keys)
    verdicts = {
        h.item_id: h
        for h in ctx.session.scalars(
            select(HypothesisRow).where(
                HypothesisRow.item_id.in_(
                    [r.id for r in rows if r.kind == ItemKind.HYPOTHESIS.value]
                )
            )
        )
    }
    names = accounts.usernames(ctx.session, {r.assignee_id for r in rows if r.assignee_id})
    now = ctx.clock.now()
    by_column: dict[str, list[BoardCard]] = defaultdict(list)
    for r in rows:
        h = verdicts.get(r.id)
        start = starts.get(r.id)
        by_column[r.status].append(
            BoardCard(
                key=r.key,
                title=r.title,
                kind=ItemKind(r.kind),
                status=r.status,
                assignee=names.get(r.assignee_id or ""),
                labels=tuple(r.labels),
                estimate=r.estimate,
                cycle=cycle_of.get(r.id),
                age_days=(now - start).total_seconds() / 86400 if start else None,
                verdict=Verdict(h.verdict) if h else None,
                overdue=bool(
                    h
                    and h.verdict == Verdict.OPEN.value
                    and h.time_box_end
                    and h.time_box_end < now
                ),
            )
        )
    return Board(
        project_key=project.key,
        columns=tuple(
            BoardColumn(
                c,
                tuple(by_column.get(c.key, [])[:CARDS_PER_COLUMN]),
                counts.get(c.key, 0),
                over_limit=c.wip_limit is not None and counts.get(c.key, 0) > c.wip_limit,
            )
            for c in cols
        ),
    )
