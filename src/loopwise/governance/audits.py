"""Fairness audits kept as gate evidence: run ``numeric.fairness.audit`` over a dataset
version's stored predictions and store its headline values, pinned to the model version
and the dataset version (and its content hash) they came from."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter
from sqlalchemy import select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.core.ids import new_id
from loopwise.data import service as data
from loopwise.governance.models import FairnessAuditRecord
from loopwise.governance.tables import FairnessAuditRow
from loopwise.numeric import fairness
from loopwise.projects import service as projects
from loopwise.registry import service as registry

_DETAIL = TypeAdapter(fairness.FairnessAudit)


def _record(ctx: Context, row: FairnessAuditRow) -> FairnessAuditRecord:
    mv = registry.version_by_id(ctx, row.model_version_id)
    names = accounts.usernames(ctx.session, {row.created_by} if row.created_by else set())
    return FairnessAuditRecord(
        id=row.id,
        project_key=projects.project_by_id(ctx, row.project_id).key,
        model=mv.model,
        version=mv.version,
        model_version_id=row.model_version_id,
        model_source=row.model_source,
        dataset_version_id=row.dataset_version_id or "",
        dataset_hash=row.dataset_hash,
        label_col=row.label_col,
        prediction_col=row.prediction_col,
        sensitive_cols=tuple(row.sensitive_cols),
        rows=row.rows,
        values=dict(row.values),
        primary_measure=row.primary_measure,
        justification=row.justification,
        warnings=tuple(row.warnings),
        created_by=names.get(row.created_by or ""),
        created_at=row.created_at,
        detail=_DETAIL.validate_python(row.detail) if row.detail is not None else None,
    )


def run_audit(
    ctx: Context,
    model: str,
    version: int,
    dataset_version: str,
    label_col: str,
    prediction_col: str,
    sensitive_cols: Sequence[str],
    *,
    primary_measure: str = "demographic_parity_ratio",
    justification: str = "",
    min_group_size: int = 30,
    bootstrap: int = 1000,
) -> FairnessAuditRecord:
    """Audit a model version's predictions (``prediction_col``) against the labels in a
    dataset version's stored file, per sensitive column, and keep the result (headline
    values for gate criteria, and the whole audit with ``bootstrap`` replicates)."""
    mv = registry.get_version(ctx, model, version)
    project_id = registry.version_project_id(ctx, mv.id)
    accounts.require_role(ctx, project_id, Role.CONTRIBUTOR, what=f"model {model!r}")
    names = {m.name for m in fairness.measure_catalogue()}
    if primary_measure not in names:
        raise InvalidInput(
            f"unknown fairness measure {primary_measure!r}; measures: {', '.join(sorted(names))}"
        )
    if not sensitive_cols:
        raise InvalidInput("name at least one sensitive column")
    dv = data.get_version(ctx, dataset_version)
    if dv.project_key != projects.project_by_id(ctx, project_id).key:
        raise InvalidInput(f"dataset version {dataset_version} belongs to another project")
    columns = list(dict.fromkeys([label_col, prediction_col, *sensitive_cols]))
    frame = data.read_columns(ctx, dv.id, columns)
    result = fairness.audit(
        frame[label_col].to_numpy(),
        frame[prediction_col].to_numpy(),
        {c: frame[c] for c in sensitive_cols},
        min_group_size=min_group_size,
        bootstrap=bootstrap,
    )
    row = FairnessAuditRow(
        id=new_id("fa"),
        project_id=project_id,
        model_version_id=mv.id,
        model_source=(f"run {mv.run_id}" if mv.run_id else mv.source)[:1000],
        dataset_version_id=dv.id,
        dataset_hash=dv.content_hash,
        label_col=label_col,
        prediction_col=prediction_col,
        sensitive_cols=list(sensitive_cols),
        rows=result.rows,
        values=result.values(),
        primary_measure=primary_measure,
        justification=justification,
        warnings=list(result.warnings),
        detail=_DETAIL.dump_python(result, mode="json"),
        created_by=ctx.actor.user_id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(  # the result goes into the chain as a digest
        ctx,
        "fairness.audit",
        f"fairness_audit:{row.id}",
        payload={
            "model_version": mv.id,
            "dataset_version": dv.id,
            "dataset_hash": dv.content_hash,
            "primary_measure": primary_measure,
            "values": row.values,
        },
    )
    return _record(ctx, row)


def list_audits(ctx: Context, model: str, version: int) -> list[FairnessAuditRecord]:
    """A model version's audits, newest first."""
    mv = registry.get_version(ctx, model, version)
    rows = ctx.session.scalars(
        select(FairnessAuditRow)
        .where(FairnessAuditRow.model_version_id == mv.id)
        .order_by(FairnessAuditRow.created_at.desc(), FairnessAuditRow.id.desc())
    )
    return [_record(ctx, r) for r in rows]


def latest_values(
    ctx: Context, model_version_id: str, dataset_version_id: str | None
) -> dict[str, float | bool | None] | None:
    """The newest audit's values for a model version (on this dataset version, if given)."""
    query = select(FairnessAuditRow.values).where(
        FairnessAuditRow.model_version_id == model_version_id
    )
    if dataset_version_id is not None:
        query = query.where(FairnessAuditRow.dataset_version_id == dataset_version_id)
    found = ctx.session.scalar(
        query.order_by(FairnessAuditRow.created_at.desc(), FairnessAuditRow.id.desc()).limit(1)
    )
    return dict(found) if found is not None else None
