"""Gate use cases: default gates for a project and its model versions, reading gates with
their review, attestations, approvals, rejections, waivers, the dataset version a gate is
about; the checks the registry and projects ask (through ``core.context.Hooks``).

A gate's status is never stored: ``decision.review_gate`` computes it from the record on
every read, so a change of subject or the passing of time shows at once (re-review).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.checks import CheckResult
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound, PermissionDenied
from loopwise.core.ids import new_id
from loopwise.data import service as data
from loopwise.governance import calendar
from loopwise.governance.decision import Subject, review_gate
from loopwise.governance.evidence import Record
from loopwise.governance.models import (
    Gate,
    GateScope,
    GateStatus,
    GateTemplate,
    Signoff,
    SignoffKind,
    Waiver,
)
from loopwise.governance.tables import GatePlanRow, GateRow, GateSignoffRow, GateWaiverRow
from loopwise.governance.templates import DEFAULT_SET, latest_templates, template
from loopwise.planning.items import service as items
from loopwise.planning.items.models import ItemKind
from loopwise.planning.items.schemas import ItemCreate
from loopwise.projects import service as projects
from loopwise.projects.models import Phase, Project
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion, Stage

_TEMPLATE = TypeAdapter(GateTemplate)
MAX_WAIVER_DAYS = 366
BLOCKER_LABELS = ("blocker", "critical", "governance")


# --- making gates ----------------------------------------------------------------------


def _new_gate(
    ctx: Context, project_id: str, t: GateTemplate, model_version_id: str | None = None
) -> GateRow:
    now = ctx.clock.now()
    row = GateRow(
        id=new_id("gate"),
        project_id=project_id,
        template=t.name,
        template_version=t.version,
        scope=t.scope.value,
        phase=t.phase,
        stage=t.stage,
        model_version_id=model_version_id,
        dataset_version_id=None,
        definition=_TEMPLATE.dump_python(t, mode="json"),
        blocker_item_id=None,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    return row


def _adopt(ctx: Context, project_id: str) -> int:
    """Give a project the default gates it lacks: the phase exit gates, and a plan for the
    version gates (attached to every existing and future model version). Idempotent."""
    made = 0
    have = set(
        ctx.session.scalars(
            select(GateRow.template).where(
                GateRow.project_id == project_id, GateRow.scope == GateScope.PHASE.value
            )
        )
    )
    planned = set(
        ctx.session.scalars(
            select(GatePlanRow.template).where(GatePlanRow.project_id == project_id)
        )
    )
    for t in latest_templates():
        if t.scope is GateScope.PHASE and t.name not in have:
            _new_gate(ctx, project_id, t)
            made += 1
        elif t.scope is GateScope.VERSION and t.name not in planned:
            ctx.session.add(
                GatePlanRow(
                    project_id=project_id,
                    template=t.name,
                    template_version=t.version,
                    created_at=ctx.clock.now(),
                )
            )
    ctx.session.flush()
    return made


def adopt_default_gates(ctx: Context, project_key: str) -> list[Gate]:
    """Give an existing project the default gates (project admins); its model versions get
    theirs too. New projects get them when made (``default_gates`` setting)."""
    project = projects.resolve_project(ctx, project_key, Role.ADMIN)
    _adopt(ctx, project.id)
    for model in registry.list_models(ctx, project.key):
        for version in registry.list_versions(ctx, model.name):
            _attach(ctx, project.id, version.id)
    return list_gates(ctx, project.key)


def _attach(ctx: Context, project_id: str, version_id: str) -> None:
    plan = ctx.session.scalars(select(GatePlanRow).where(GatePlanRow.project_id == project_id))
    have = set(
        ctx.session.scalars(select(GateRow.template).where(GateRow.model_version_id == version_id))
    )
    for entry in plan:
        if entry.template not in have:
            _new_gate(ctx, project_id, template(entry.template, entry.template_version), version_id)
    ctx.session.flush()


def on_project_created(ctx: Context, event: Any) -> None:
    """projects.models.ProjectCreated: default gates, unless the setting turns them off."""
    if ctx.settings.default_gates:
        _adopt(ctx, event.project_id)


def on_model_version_created(ctx: Context, event: Any) -> None:
    """registry.models.ModelVersionCreated: the project's version gates attach to it."""
    _attach(ctx, event.project_id, event.version_id)


# --- reading ---------------------------------------------------------------------------


def _signoffs(ctx: Context, gate_ids: list[str]) -> dict[str, list[Signoff]]:
    rows = list(
        ctx.session.scalars(
            select(GateSignoffRow)
            .where(GateSignoffRow.gate_id.in_(gate_ids))
            .order_by(GateSignoffRow.at, GateSignoffRow.id)
        )
    )
    names = accounts.usernames(ctx.session, {r.user_id for r in rows if r.user_id})
    out: dict[str, list[Signoff]] = {g: [] for g in gate_ids}
    for r in rows:
        out[r.gate_id].append(
            Signoff(
                r.id,
                SignoffKind(r.kind),
                r.target,
                r.user_id,
                names.get(r.user_id or ""),
                r.at,
                r.model_version_id,
                r.dataset_version_id,
                r.note,
            )
        )
    return out


def _waivers(ctx: Context, gate_ids: list[str]) -> dict[str, list[Waiver]]:
    rows = list(
        ctx.session.scalars(
            select(GateWaiverRow)
            .where(GateWaiverRow.gate_id.in_(gate_ids))
            .order_by(GateWaiverRow.at, GateWaiverRow.id)
        )
    )
    names = accounts.usernames(ctx.session, {r.user_id for r in rows if r.user_id})
    out: dict[str, list[Waiver]] = {g: [] for g in gate_ids}
    for r in rows:
        out[r.gate_id].append(
            Waiver(r.id, r.target, r.reason, r.expires_at, names.get(r.user_id or ""), r.at)
        )
    return out


def _subject(ctx: Context, row: GateRow) -> Subject:
    author = registry.version_author(ctx, row.model_version_id) if row.model_version_id else None
    return Subject(row.model_version_id, row.dataset_version_id, author)


def _gates(ctx: Context, rows: list[GateRow], project: Project) -> list[Gate]:
    ids = [r.id for r in rows]
    signoffs, waivers = _signoffs(ctx, ids), _waivers(ctx, ids)
    blockers = items.item_keys(ctx, {r.blocker_item_id for r in rows if r.blocker_item_id})
    now = ctx.clock.now()
    out = []
    for r in rows:
        definition = _TEMPLATE.validate_python(r.definition)
        version = registry.version_by_id(ctx, r.model_version_id) if r.model_version_id else None
        record = Record(ctx, project, r.model_version_id, r.dataset_version_id)
        review = review_gate(
            definition,
            record.lookup,
            signoffs[r.id],
            waivers[r.id],
            _subject(ctx, r),
            now,
            separation_of_duties=ctx.settings.auth,
        )
        out.append(
            Gate(
                id=r.id,
                project_key=project.key,
                template=r.template,
                template_version=r.template_version,
                title=definition.title,
                scope=GateScope(r.scope),
                phase=r.phase,
                stage=r.stage,
                model=version.model if version else None,
                version=version.version if version else None,
                model_version_id=r.model_version_id,
                dataset_version_id=r.dataset_version_id,
                definition=definition,
                signoffs=tuple(signoffs[r.id]),
                waivers=tuple(waivers[r.id]),
                review=review,
                blocker_item=blockers.get(r.blocker_item_id or ""),
                created_at=r.created_at,
                due=calendar.gate_due(
                    calendar.load(),
                    definition.clauses,
                    review.status is GateStatus.PASSED,
                    now.date(),
                ),
            )
        )
    return out


def _ordered(query: Any) -> Any:
    return query.order_by(GateRow.created_at, GateRow.id)


def _in_template_order(rows: list[GateRow]) -> list[GateRow]:
    """Gates made together (a project's, a version's) in the order of the template set."""
    rank = {name: i for i, name in enumerate(DEFAULT_SET)}
    return sorted(rows, key=lambda r: (r.created_at, rank.get(r.template, len(rank)), r.id))


def list_gates(ctx: Context, project_key: str) -> list[Gate]:
    """Every gate of a project (phase gates and those of its model versions)."""
    project = projects.resolve_project(ctx, project_key)
    rows = list(
        ctx.session.scalars(_ordered(select(GateRow).where(GateRow.project_id == project.id)))
    )
    return _gates(ctx, _in_template_order(rows), project)


def version_gates(ctx: Context, model: str, version: int) -> list[Gate]:
    mv = registry.get_version(ctx, model, version)
    project = projects.project_by_id(ctx, registry.version_project_id(ctx, mv.id))
    rows = list(
        ctx.session.scalars(_ordered(select(GateRow).where(GateRow.model_version_id == mv.id)))
    )
    return _gates(ctx, _in_template_order(rows), project)


def _row(ctx: Context, gate_id: str, needed: Role) -> tuple[GateRow, Project, Role]:
    row = ctx.session.get(GateRow, gate_id)
    if row is None:
        raise NotFound(f"gate {gate_id!r} not found")
    role = accounts.require_role(ctx, row.project_id, needed, what=f"gate {gate_id!r}")
    return row, projects.project_by_id(ctx, row.project_id), role


def get_gate(ctx: Context, gate_id: str) -> Gate:
    row, project, _ = _row(ctx, gate_id, Role.VIEWER)
    return _gates(ctx, [row], project)[0]


# --- signing off -----------------------------------------------------------------------


def _sign(ctx: Context, row: GateRow, kind: SignoffKind, target: str, note: str) -> None:
    ctx.session.add(
        GateSignoffRow(
            id=new_id("gso"),
            gate_id=row.id,
            kind=kind.value,
            target=target,
            user_id=ctx.actor.user_id,
            at=ctx.clock.now(),
            model_version_id=row.model_version_id,
            dataset_version_id=row.dataset_version_id,
            note=note.strip(),
        )
    )
    audit.record(  # the note may be free text: only its digest goes into the chain
        ctx,
        f"gate.{kind.value}",
        f"gate:{row.id}",
        payload={"target": target, "note": note.strip(), "model_version": row.model_version_id},
    )
    row.updated_at = ctx.clock.now()
    ctx.session.flush()


def attest(ctx: Context, gate_id: str, item: str, note: str = "") -> Gate:
    """Attest a checklist item; the attester holds the item's role (or a higher one)."""
    row, project, role = _row(ctx, gate_id, Role.CONTRIBUTOR)
    definition = _TEMPLATE.validate_python(row.definition)
    found = next((i for i in definition.checklist if i.key == item), None)
    if found is None:
        keys = ", ".join(i.key for i in definition.checklist) or "none"
        raise InvalidInput(f"gate {gate_id} has no checklist item {item!r}; items: {keys}")
    if not role.allows(Role(found.role)):
        raise PermissionDenied(
            f"{found.text!r} is attested by a {found.role}; {ctx.actor.username} is {role.value}"
        )
    _sign(ctx, row, SignoffKind.ATTEST, item, note)
    return _after_change(ctx, row, project)


def _decide(ctx: Context, gate_id: str, kind: SignoffKind, note: str) -> Gate:
    row, project, role = _row(ctx, gate_id, Role.CONTRIBUTOR)
    definition = _TEMPLATE.validate_python(row.definition)
    if not definition.approvers:
        raise InvalidInput(f"gate {gate_id} needs no approval")
    if not any(role.allows(Role(r)) for r in definition.approvers):
        wanted = " or ".join(sorted(set(definition.approvers)))
        raise PermissionDenied(
            f"this gate is approved by a {wanted}; {ctx.actor.username} is {role.value}"
        )
    if kind is SignoffKind.REJECT and not note.strip():
        raise InvalidInput("a rejection needs a reason (--note)")
    author = _subject(ctx, row).author_id
    if ctx.settings.auth and author is not None and author == ctx.actor.user_id:
        raise PermissionDenied(
            "separation of duties: the author of a model version cannot approve or reject its gates"
        )
    _sign(ctx, row, kind, role.value, note)
    return _after_change(ctx, row, project)


def approve(ctx: Context, gate_id: str, note: str = "") -> Gate:
    """Approve a gate as the role you hold on its project (separation of duties in auth
    mode: not the author of its model version)."""
    return _decide(ctx, gate_id, SignoffKind.APPROVE, note)


def reject(ctx: Context, gate_id: str, note: str) -> Gate:
    """Reject a gate, with a reason: it fails until the rejection is no longer current."""
    return _decide(ctx, gate_id, SignoffKind.REJECT, note)


def waive(ctx: Context, gate_id: str, target: str, reason: str, expires_at: datetime) -> Gate:
    """Waive one requirement (``criterion:1``, ``checklist:<key>``, ``approval:1``) until
    ``expires_at`` (project admins; a reason; at most a year)."""
    row, project, _ = _row(ctx, gate_id, Role.ADMIN)
    gate = _gates(ctx, [row], project)[0]
    ids = [r.id for r in gate.review.requirements if not r.id.startswith("rejection:")]
    if target not in ids:
        raise InvalidInput(f"gate {gate_id} has no requirement {target!r}; requirements: {ids}")
    if not reason.strip():
        raise InvalidInput("a waiver needs a reason")
    now = ctx.clock.now()
    if expires_at.tzinfo is None:
        raise InvalidInput("give the expiry with a time zone (UTC: ...Z)")
    if expires_at <= now:
        raise InvalidInput("a waiver's expiry must be in the future")
    if expires_at > now + timedelta(days=MAX_WAIVER_DAYS):
        raise InvalidInput(f"a waiver lasts at most {MAX_WAIVER_DAYS} days")
    ctx.session.add(
        GateWaiverRow(
            id=new_id("gwv"),
            gate_id=row.id,
            target=target,
            reason=reason.strip(),
            expires_at=expires_at,
            user_id=ctx.actor.user_id,
            at=now,
        )
    )
    audit.record(
        ctx,
        "gate.waive",
        f"gate:{row.id}",
        outcome="waived",
        payload={"target": target, "reason": reason.strip(), "expires_at": expires_at.isoformat()},
    )
    row.updated_at = now
    ctx.session.flush()
    return _after_change(ctx, row, project)


def set_dataset_version(ctx: Context, gate_id: str, dataset_version_id: str | None) -> Gate:
    """Name the dataset version a gate is about; sign-offs given for another one stop
    counting (the gate is reviewed again)."""
    row, project, _ = _row(ctx, gate_id, Role.MAINTAINER)
    if dataset_version_id is not None:
        dv = data.get_version(ctx, dataset_version_id)
        if dv.project_key != project.key:
            raise InvalidInput(f"dataset version {dataset_version_id} belongs to another project")
    row.dataset_version_id = dataset_version_id
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return _after_change(ctx, row, project)


def _after_change(ctx: Context, row: GateRow, project: Project) -> Gate:
    """The gate as it now reads; a failed gate whose template asks for it opens a critical
    blocker on the board (once while one is open)."""
    gate = _gates(ctx, [row], project)[0]
    if (
        gate.review.status is GateStatus.FAILED
        and gate.definition.blocker_on_failure
        and row.blocker_item_id is None
    ):
        subject = f"{gate.model} v{gate.version}" if gate.model else project.key
        blocker = items.add_item_row(
            ctx,
            project.key,
            ItemCreate(
                kind=ItemKind.TASK,
                title=f"{gate.title} failed: {subject}"[:200],
                description="Gate "
                + gate.id
                + " failed:\n"
                + "\n".join(f"- {line}" for line in gate.review.missing),
                labels=list(BLOCKER_LABELS),
            ),
        )
        row.blocker_item_id = blocker.id
        ctx.session.flush()
        gate = dataclasses.replace(gate, blocker_item=blocker.key)
    return gate


# --- the checks other slices ask --------------------------------------------------------

_STAGE_ORDER = ("canary", "production")


def gates_before_stage(ctx: Context, version: ModelVersion, stage: Stage) -> CheckResult | None:
    """Promotion check (registry): every gate of the version that guards ``stage`` (a
    canary gate also guards production) has passed. None: the version has no such gate."""
    if stage.value not in _STAGE_ORDER:
        return None
    guarding = _STAGE_ORDER[: _STAGE_ORDER.index(stage.value) + 1]
    gates = [g for g in version_gates(ctx, version.model, version.version) if g.stage in guarding]
    if not gates:
        return None
    open_ = [g for g in gates if g.review.status is not GateStatus.PASSED]
    detail = "; ".join(
        f"{g.title} {g.review.status.value} ({', '.join(g.review.missing)})" for g in open_
    )
    return CheckResult("gates passed", not open_, detail or f"{len(gates)} gates passed")


def phase_exit(
    ctx: Context, project: Project, from_phase: Phase, to_phase: Phase
) -> list[CheckResult]:
    """Phase check (projects): moving forward, the exit gate of every phase left behind has
    passed. Moving back needs none."""
    order = list(Phase)
    start, end = order.index(from_phase), order.index(to_phase)
    if end <= start:
        return []
    leaving = {p.value for p in order[start:end]}
    gates = [
        g for g in list_gates(ctx, project.key) if g.scope is GateScope.PHASE and g.phase in leaving
    ]
    return [
        CheckResult(
            f"{g.title} (exit of {Phase(g.phase or '').label})",
            g.review.status is GateStatus.PASSED,
            ", ".join(g.review.missing) or g.review.status.value,
        )
        for g in gates
    ]
