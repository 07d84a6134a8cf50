"""Definition of Done: a checklist template per item kind, and each item's checks.

Templates default to ``models.DEFAULT_DONE`` until a project edits them. A check with a
``rule`` is computed, not ticked: ``verdict_decided`` (here) holds once a hypothesis is no
longer open; other slices declare rules of their own (data: ``dataset_cited``, once the
item cites a registered dataset version), which reach this module as ``ctx.hooks``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter
from sqlalchemy import select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.planning.board.models import DEFAULT_DONE, DoneCheck, ItemCheck
from loopwise.planning.board.tables import DoneRuleRow, ItemCheckRow
from loopwise.planning.hypotheses.models import Verdict
from loopwise.planning.hypotheses.tables import HypothesisRow
from loopwise.planning.items import service as planning
from loopwise.planning.items.models import ItemKind
from loopwise.planning.items.tables import WorkItemRow
from loopwise.projects import service as projects

_CHECKS = TypeAdapter(list[DoneCheck])


def template(ctx: Context, project_id: str, kind: ItemKind) -> tuple[DoneCheck, ...]:
    row = ctx.session.get(DoneRuleRow, (project_id, kind.value))
    if row is None:
        return DEFAULT_DONE.get(kind, ())
    return tuple(_CHECKS.validate_python(row.checks))


def templates(ctx: Context, project_key: str) -> dict[ItemKind, tuple[DoneCheck, ...]]:
    project = projects.resolve_project(ctx, project_key)
    return {kind: template(ctx, project.id, kind) for kind in ItemKind}


def set_template(
    ctx: Context, project_key: str, kind: ItemKind, checks: Sequence[DoneCheck]
) -> tuple[DoneCheck, ...]:
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    texts = [c.text.strip() for c in checks]
    if any(not t or len(t) > 200 for t in texts) or len(set(texts)) != len(texts):
        raise InvalidInput("each check needs a unique text of 1 to 200 characters")
    known = set(ctx.hooks.done_rules)
    unknown = {c.rule for c in checks if c.rule} - known
    if unknown:
        raise InvalidInput(f"unknown rule(s) {sorted(unknown)}; known: {sorted(known)}")
    row = ctx.session.get(DoneRuleRow, (project.id, kind.value))
    data = _CHECKS.dump_python(list(checks), mode="json")
    if row is None:
        ctx.session.add(DoneRuleRow(project_id=project.id, kind=kind.value, checks=data))
    else:
        row.checks = data
    ctx.session.flush()
    return tuple(checks)


def verdict_decided(ctx: Context, item_id: str) -> bool:
    """The rule ``verdict_decided``: the item is a hypothesis whose verdict is in."""
    h = ctx.session.get(HypothesisRow, item_id)
    return h is not None and h.verdict != Verdict.OPEN.value


def _rule_holds(ctx: Context, item: WorkItemRow, rule: str) -> bool:
    holds = ctx.hooks.done_rules.get(rule)
    return holds is not None and holds(ctx, item.id)


def checks_for(ctx: Context, item: WorkItemRow) -> list[ItemCheck]:
    """The item's checklist: its kind's template merged with ticks, rules computed."""
    ticks = {
        c.text: c
        for c in ctx.session.scalars(select(ItemCheckRow).where(ItemCheckRow.item_id == item.id))
    }
    who = accounts.usernames(ctx.session, {t.checked_by for t in ticks.values() if t.checked_by})
    out = []
    for check in template(ctx, item.project_id, ItemKind(item.kind)):
        if check.rule:
            out.append(
                ItemCheck(check.text, check.rule, _rule_holds(ctx, item, check.rule), None, None)
            )
            continue
        tick = ticks.get(check.text)
        checked = bool(tick and tick.checked)
        out.append(
            ItemCheck(
                check.text,
                None,
                checked,
                who.get(tick.checked_by or "") if tick and checked else None,
                tick.checked_at if tick and checked else None,
            )
        )
    return out


def unmet(ctx: Context, item: WorkItemRow) -> list[str]:
    return [c.text for c in checks_for(ctx, item) if not c.checked]


def get_checks(ctx: Context, item_key: str) -> list[ItemCheck]:
    return checks_for(ctx, planning.item_row(ctx, item_key, Role.VIEWER))


def set_check(ctx: Context, item_key: str, text: str, checked: bool) -> list[ItemCheck]:
    item = planning.item_row(ctx, item_key, Role.CONTRIBUTOR)
    line = next(
        (c for c in template(ctx, item.project_id, ItemKind(item.kind)) if c.text == text), None
    )
    if line is None:
        raise NotFound(f"{item_key} has no Definition-of-Done check {text!r}")
    if line.rule:
        raise InvalidInput(f"{text!r} is computed by Loopwise and cannot be ticked by hand")
    rows = list(
        ctx.session.scalars(
            select(ItemCheckRow).where(ItemCheckRow.item_id == item.id, ItemCheckRow.text == text)
        )
    )
    row = rows[0] if rows else None
    if row is None:
        position = 1 + max(
            ctx.session.scalars(
                select(ItemCheckRow.position).where(ItemCheckRow.item_id == item.id)
            ),
            default=0,
        )
        row = ItemCheckRow(item_id=item.id, position=position, text=text, rule=None)
        ctx.session.add(row)
    row.checked = checked
    row.checked_by = ctx.actor.user_id if checked else None
    row.checked_at = ctx.clock.now() if checked else None
    planning.record_event(ctx, item.id, "check", None, f"{'✓' if checked else '✗'} {text}"[:200])
    ctx.session.flush()
    return checks_for(ctx, item)
