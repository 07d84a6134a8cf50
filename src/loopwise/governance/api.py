"""REST endpoints for gates, fairness audits and explanations. A phase change with an override is a
projects endpoint (``POST /api/v1/projects/{key}/phase``)."""

from __future__ import annotations

from fastapi import APIRouter

from loopwise.governance import audits, explanations, service
from loopwise.governance.models import Explanation, FairnessAuditRecord, Gate, GateTemplate
from loopwise.governance.schemas import (
    AttestIn,
    AuditIn,
    DatasetVersionSet,
    DecisionIn,
    ExplanationIn,
    WaiverIn,
)
from loopwise.governance.templates import TEMPLATES
from loopwise.web.deps import CallerDep

router = APIRouter(prefix="/api/v1", tags=["governance"])


@router.get("/gate-templates")
def list_templates(caller: CallerDep) -> list[GateTemplate]:
    """Every version of every gate template, with the framework clauses it serves."""
    return list(TEMPLATES)


@router.get("/projects/{key}/gates")
def list_gates(key: str, caller: CallerDep) -> list[Gate]:
    with caller.read() as ctx:
        return service.list_gates(ctx, key)


@router.post("/projects/{key}/gates/adopt")
def adopt_default_gates(key: str, caller: CallerDep) -> list[Gate]:
    """Give an existing project the default gates (project admins); idempotent."""
    with caller.write() as ctx:
        return service.adopt_default_gates(ctx, key)


@router.get("/models/{name}/versions/{version}/gates")
def version_gates(name: str, version: int, caller: CallerDep) -> list[Gate]:
    with caller.read() as ctx:
        return service.version_gates(ctx, name, version)


@router.get("/gates/{gate_id}")
def get_gate(gate_id: str, caller: CallerDep) -> Gate:
    with caller.read() as ctx:
        return service.get_gate(ctx, gate_id)


@router.post("/gates/{gate_id}/attest")
def attest(gate_id: str, body: AttestIn, caller: CallerDep) -> Gate:
    with caller.write() as ctx:
        return service.attest(ctx, gate_id, body.item, body.note)


@router.post("/gates/{gate_id}/approve")
def approve(gate_id: str, body: DecisionIn, caller: CallerDep) -> Gate:
    with caller.write() as ctx:
        return service.approve(ctx, gate_id, body.note)


@router.post("/gates/{gate_id}/reject")
def reject(gate_id: str, body: DecisionIn, caller: CallerDep) -> Gate:
    with caller.write() as ctx:
        return service.reject(ctx, gate_id, body.note)


@router.post("/gates/{gate_id}/waivers", status_code=201)
def waive(gate_id: str, body: WaiverIn, caller: CallerDep) -> Gate:
    with caller.write() as ctx:
        return service.waive(ctx, gate_id, body.target, body.reason, body.expires_at)


@router.put("/gates/{gate_id}/dataset-version")
def set_dataset_version(gate_id: str, body: DatasetVersionSet, caller: CallerDep) -> Gate:
    with caller.write() as ctx:
        return service.set_dataset_version(ctx, gate_id, body.dataset_version_id)


@router.post("/models/{name}/versions/{version}/fairness-audits", status_code=201)
def run_audit(name: str, version: int, body: AuditIn, caller: CallerDep) -> FairnessAuditRecord:
    with caller.write() as ctx:
        return audits.run_audit(
            ctx,
            name,
            version,
            body.dataset_version_id,
            body.label_col,
            body.prediction_col,
            body.sensitive_cols,
            primary_measure=body.primary_measure,
            justification=body.justification,
            min_group_size=body.min_group_size,
            bootstrap=body.bootstrap,
        )


@router.get("/models/{name}/versions/{version}/fairness-audits")
def list_audits(name: str, version: int, caller: CallerDep) -> list[FairnessAuditRecord]:
    with caller.read() as ctx:
        return audits.list_audits(ctx, name, version)


@router.post("/models/{name}/versions/{version}/explanations", status_code=201)
def record_explanation(
    name: str, version: int, body: ExplanationIn, caller: CallerDep
) -> Explanation:
    """Keep feature importances computed by a client (``Client.explain``) with a model
    version: the server never loads a model."""
    with caller.write() as ctx:
        return explanations.record_explanation(ctx, name, version, body)


@router.get("/models/{name}/versions/{version}/explanations")
def list_explanations(
    name: str, version: int, caller: CallerDep, latest: bool = False
) -> list[Explanation]:
    """A model version's explanations, newest first; ``latest``: the newest per method."""
    with caller.read() as ctx:
        if latest:
            return explanations.latest_explanations(ctx, name, version)
        return explanations.list_explanations(ctx, name, version)
