"""Server-rendered pages for gates: a project's gates (phase exits and model versions),
one gate (criteria, checklist with attest buttons, approvals, waivers, sign-off history),
and the governance panel of a registered model's page. Forms post the API's own schemas
to the same services; a refused action shows the page again with the message."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from loopwise.governance import service
from loopwise.governance.models import Gate, GateScope, RequirementState
from loopwise.governance.schemas import AttestIn, DecisionIn, WaiverIn
from loopwise.governance.status import GateSummary, sources, summarize
from loopwise.projects import service as projects
from loopwise.projects.models import Phase
from loopwise.registry.models import ModelVersion, RegisteredModel, Stage
from loopwise.web.deps import Caller
from loopwise.web.pages import FormDep, PageCaller, Panel, pick, redirect, render
from loopwise.web.pages import validation_messages as messages_of

router = APIRouter(include_in_schema=False)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WAIVER_LABELS = {"target": "Requirement", "reason": "Reason", "expires_at": "Expires"}
NOTE_LABELS = {"item": "Checklist item", "note": "Note"}


def _gate_url(gate_id: str, anchor: str = "") -> str:
    return f"/gates/{gate_id}" + (f"#{anchor}" if anchor else "")


def _role(ctx: Context, project_id: str) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project_id)


def _allows(role: Role | None, needed: str) -> bool:
    return role is not None and role.allows(Role(needed))


# --- a project's gates -------------------------------------------------------------------


@router.get("/projects/{key}/gates")
def gates_page(key: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = _role(ctx, project.id)
        gates = service.list_gates(ctx, project.key)
        now = ctx.clock.now()
    summaries = {g.id: summarize(g, now) for g in gates}
    order = {p.value: i for i, p in enumerate(Phase)}
    phase_gates = sorted(
        (g for g in gates if g.scope is GateScope.PHASE), key=lambda g: order.get(g.phase or "", 99)
    )
    versions: dict[tuple[str, int], list[Gate]] = {}
    for g in gates:
        if g.scope is GateScope.VERSION and g.model is not None and g.version is not None:
            versions.setdefault((g.model, g.version), []).append(g)
    return render(
        request,
        "governance/gates.html",
        {
            "nav": "projects",
            "project": project,
            "phase_gates": phase_gates,
            "versions": sorted(versions.items(), key=lambda kv: (kv[0][0], -kv[0][1])),
            "summaries": summaries,
            "current_phase": project.phase.value,
            "can_adopt": _allows(role, Role.ADMIN),
        },
    )


@router.post("/projects/{key}/gates/adopt")
def adopt(key: str, caller: PageCaller, form: FormDep) -> Response:
    with caller.write() as ctx:
        project = projects.resolve_project(ctx, key)
        service.adopt_default_gates(ctx, project.key)
    return redirect(f"/projects/{project.key}/gates")


# --- one gate ----------------------------------------------------------------------------


def _gate_page(
    request: Request,
    caller: Caller,
    gate_id: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    form: str = "",
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        gate = service.get_gate(ctx, gate_id)
        project = projects.resolve_project(ctx, gate.project_key)
        role = _role(ctx, project.id)
        now = ctx.clock.now()
    summary: GateSummary = summarize(gate, now)
    requirements = gate.review.requirements
    criteria = [
        (r, sources(gate.definition.criteria[i]))
        for i, r in enumerate(r for r in requirements if r.id.startswith("criterion:"))
    ]
    items = {i.key: i for i in gate.definition.checklist}
    checklist = [
        (r, items[r.id.removeprefix("checklist:")])
        for r in requirements
        if r.id.startswith("checklist:")
    ]
    approvals = [r for r in requirements if r.id.startswith(("approval:", "rejection:"))]
    return render(
        request,
        "governance/gate.html",
        {
            "nav": "projects",
            "project": project,
            "gate": gate,
            "summary": summary,
            "criteria": criteria,
            "checklist": checklist,
            "approvals": approvals,
            "waivable": [r for r in requirements if not r.id.startswith("rejection:")],
            "active_waivers": {w.id for w in gate.waivers if w.expires_at > now},
            "signoffs": list(reversed(gate.signoffs)),
            "role": role,
            "can_attest": {k: _allows(role, i.role) for k, i in items.items()},
            "can_decide": any(_allows(role, r) for r in gate.definition.approvers),
            "can_waive": _allows(role, Role.ADMIN),
            "met": RequirementState.MET,
            "values": values or {},
            "errors": errors or [],
            "form": form,
            "now": now,
        },
        status=status,
    )


@router.get("/gates/{gate_id}")
def gate_page(gate_id: str, request: Request, caller: PageCaller) -> Response:
    return _gate_page(request, caller, gate_id)


def _act(
    request: Request,
    caller: Caller,
    gate_id: str,
    form: str,
    values: dict[str, str],
    parse: Callable[[], BaseModel],
    act: Callable[[Context, Any], object],
    labels: dict[str, str],
) -> Response:
    """Parse the form into the API's schema, run the use case, and go back to the gate;
    a problem (a schema error, a refusal, separation of duties) shows the gate again with
    the message (400, or 403 for a refusal by role)."""
    with caller.read() as ctx:
        service.get_gate(ctx, gate_id)  # not found / not a member: the error page
    try:
        body = parse()
    except ValidationError as exc:
        errors = messages_of(exc, labels)
        return _gate_page(
            request, caller, gate_id, values=values, errors=errors, form=form, status=400
        )
    try:
        with caller.write() as ctx:
            act(ctx, body)
    except (InvalidInput, Conflict, NotFound, PermissionDenied) as exc:
        return _gate_page(
            request,
            caller,
            gate_id,
            values=values,
            errors=[exc.message],
            form=form,
            status=exc.http_status,
        )
    return redirect(_gate_url(gate_id, form))


@router.post("/gates/{gate_id}/attest")
def attest(gate_id: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("item", "note"))
    return _act(
        request,
        caller,
        gate_id,
        "checklist",
        values,
        lambda: AttestIn.model_validate(values),
        lambda ctx, body: service.attest(ctx, gate_id, body.item, body.note),
        NOTE_LABELS,
    )


@router.post("/gates/{gate_id}/approve")
def approve(gate_id: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("note",))
    return _act(
        request,
        caller,
        gate_id,
        "approvals",
        values,
        lambda: DecisionIn.model_validate(values),
        lambda ctx, body: service.approve(ctx, gate_id, body.note),
        NOTE_LABELS,
    )


@router.post("/gates/{gate_id}/reject")
def reject(gate_id: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("note",))
    return _act(
        request,
        caller,
        gate_id,
        "approvals",
        values,
        lambda: DecisionIn.model_validate(values),
        lambda ctx, body: service.reject(ctx, gate_id, body.note),
        NOTE_LABELS,
    )


def _expiry(value: str) -> str:
    """A date from the form's date field means the end of that day, UTC."""
    return f"{value}T23:59:59Z" if _DATE.match(value) else value


@router.post("/gates/{gate_id}/waivers")
def waive(gate_id: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    values = pick(form, ("target", "reason", "expires_at"))
    raw = {k: _expiry(v) if k == "expires_at" else v for k, v in values.items() if v}
    return _act(
        request,
        caller,
        gate_id,
        "waivers",
        values,
        lambda: WaiverIn.model_validate(raw),
        lambda ctx, body: service.waive(ctx, gate_id, body.target, body.reason, body.expires_at),
        WAIVER_LABELS,
    )


# --- the panel on a registered model's page ----------------------------------------------


def model_panel(ctx: Context, model: RegisteredModel, versions: list[ModelVersion]) -> Panel | None:
    """Each non-archived version's gates and their status, with links to the gate pages and
    the version's fairness audits (declared in governance.SLICE)."""
    now = ctx.clock.now()
    rows = []
    for v in versions:
        if v.stage is Stage.ARCHIVED:
            continue
        gates = service.version_gates(ctx, model.name, v.version)
        rows.append((v, [(g, summarize(g, now)) for g in gates]))
    if not any(gates for _, gates in rows):
        return None
    return Panel("governance/model_panel.html", {"rows": rows, "model": model.name})
