"""Registry use cases.

A version's stage moves through ``models.TRANSITIONS``. Entering staging, canary or
production opens a deployment record (and closes the one it replaces); promotion to
canary or production first asks every check in ``ctx.hooks.promotion_checks`` and is
refused, naming what is missing, while one fails. ``rollback`` returns production to the
version that held it before, in one action.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.core.limits import INT32_MAX
from loopwise.numeric.flow import weekly
from loopwise.projects import service as projects
from loopwise.registry.models import (
    ENVIRONMENT,
    CheckResult,
    DeliveryMetrics,
    Deployment,
    Incident,
    ModelVersion,
    ModelVersionCreated,
    RegisteredModel,
    Stage,
    StageEvent,
    can_move,
)
from loopwise.registry.tables import (
    DeploymentRow,
    IncidentRow,
    ModelAliasRow,
    ModelVersionRow,
    RegisteredModelRow,
    StageEventRow,
)
from loopwise.tracking import service as tracking

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,199}$")
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")


# --- reading ---------------------------------------------------------------------------


def _model_row(ctx: Context, name: str, needed: Role) -> RegisteredModelRow:
    row = ctx.session.scalar(select(RegisteredModelRow).where(RegisteredModelRow.name == name))
    if row is None:
        raise NotFound(f"registered model {name!r} not found")
    accounts.require_role(ctx, row.project_id, needed, what=f"registered model {name!r}")
    return row


def _aliases(ctx: Context, model_id: str) -> dict[str, str]:
    """alias -> version id"""
    rows = ctx.session.execute(
        select(ModelAliasRow.alias, ModelAliasRow.version_id).where(
            ModelAliasRow.model_id == model_id
        )
    ).all()
    return {r.alias: r.version_id for r in rows}


def _version(row: ModelVersionRow, model: str, aliases: dict[str, str]) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        model=model,
        version=row.version,
        run_id=row.run_id,
        source=row.source,
        # NaN and infinities are stored as strings (_json_metrics); float() reads them back
        metrics={key: float(value) for key, value in row.metrics.items()},
        stage=Stage(row.stage),
        traffic_share=row.traffic_share,
        description=row.description,
        aliases=tuple(sorted(a for a, vid in aliases.items() if vid == row.id)),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _model(ctx: Context, row: RegisteredModelRow) -> RegisteredModel:
    versions = {
        v.id: v
        for v in ctx.session.scalars(
            select(ModelVersionRow).where(ModelVersionRow.model_id == row.id)
        )
    }
    aliases = _aliases(ctx, row.id)
    production = [v.version for v in versions.values() if v.stage == Stage.PRODUCTION.value]
    return RegisteredModel(
        id=row.id,
        name=row.name,
        project_key=projects.project_keys(ctx, {row.project_id})[row.project_id],
        description=row.description,
        aliases={a: versions[vid].version for a, vid in sorted(aliases.items())},
        latest_version=max((v.version for v in versions.values()), default=None),
        production_version=max(production, default=None),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_model(ctx: Context, name: str) -> RegisteredModel:
    return _model(ctx, _model_row(ctx, name, Role.VIEWER))


def list_models(ctx: Context, project_key: str | None = None) -> list[RegisteredModel]:
    query = select(RegisteredModelRow).order_by(RegisteredModelRow.name)
    if project_key is not None:
        project = projects.resolve_project(ctx, project_key)
        query = query.where(RegisteredModelRow.project_id == project.id)
    else:
        visible = accounts.visible_project_ids(ctx)
        if visible is not None:
            query = query.where(RegisteredModelRow.project_id.in_(visible))
    return [_model(ctx, r) for r in ctx.session.scalars(query)]


def _version_row(
    ctx: Context, name: str, version: int, needed: Role
) -> tuple[RegisteredModelRow, ModelVersionRow]:
    model = _model_row(ctx, name, needed)
    row = (
        ctx.session.scalar(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model.id, ModelVersionRow.version == version
            )
        )
        if 0 < version <= INT32_MAX
        else None
    )
    if row is None:
        raise NotFound(f"model {name!r} has no version {version}")
    return model, row


def get_version(ctx: Context, name: str, version: int) -> ModelVersion:
    model, row = _version_row(ctx, name, version, Role.VIEWER)
    return _version(row, model.name, _aliases(ctx, model.id))


def list_versions(ctx: Context, name: str) -> list[ModelVersion]:
    model = _model_row(ctx, name, Role.VIEWER)
    aliases = _aliases(ctx, model.id)
    rows = ctx.session.scalars(
        select(ModelVersionRow)
        .where(ModelVersionRow.model_id == model.id)
        .order_by(ModelVersionRow.version.desc())
    )
    return [_version(r, model.name, aliases) for r in rows]


def version_by_id(ctx: Context, version_id: str) -> ModelVersion:
    row = ctx.session.get(ModelVersionRow, version_id)
    if row is None:
        raise NotFound(f"model version {version_id!r} not found")
    model = ctx.session.get(RegisteredModelRow, row.model_id)
    assert model is not None
    accounts.require_role(ctx, model.project_id, Role.VIEWER, what="model version")
    return _version(row, model.name, _aliases(ctx, model.id))


def versions_of_runs(ctx: Context, run_ids: Sequence[str]) -> list[ModelVersion]:
    """Versions built from these runs (lineage); the caller checked project access."""
    if not run_ids:
        return []
    rows = ctx.session.execute(
        select(ModelVersionRow, RegisteredModelRow.name)
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.model_id)
        .where(ModelVersionRow.run_id.in_(run_ids))
        .order_by(RegisteredModelRow.name, ModelVersionRow.version)
    ).all()
    return [_version(v, name, _aliases(ctx, v.model_id)) for v, name in rows]


# --- writing ---------------------------------------------------------------------------


def create_model(
    ctx: Context, project_key: str, name: str, description: str = ""
) -> RegisteredModel:
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    if not _NAME.match(name):
        raise InvalidInput(
            f"invalid model name {name!r}: 1-200 letters, digits, spaces, '.', '_' or '-'"
        )
    if ctx.session.scalar(select(RegisteredModelRow.id).where(RegisteredModelRow.name == name)):
        raise AlreadyExists(f"Registered Model (name={name}) already exists.")
    now = ctx.clock.now()
    row = RegisteredModelRow(
        id=new_id("mdl"),
        project_id=project.id,
        name=name,
        description=description,
        next_version=1,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _model(ctx, row)


def create_version(
    ctx: Context, name: str, *, run_id: str | None = None, source: str = "", description: str = ""
) -> ModelVersion:
    """A new version; from a run it snapshots the run's latest metrics."""
    model = _model_row(ctx, name, Role.CONTRIBUTOR)
    metrics: dict[str, float] = {}
    if run_id is not None:
        run = tracking.get_run(ctx, run_id)
        if run.project_id != model.project_id:
            raise InvalidInput(
                f"run {run_id} belongs to project {run.project_key}, not the model's"
            )
        metrics = {k: p.value for k, p in run.metrics.items()}
    number = ctx.session.scalar(
        update(RegisteredModelRow)
        .where(RegisteredModelRow.id == model.id)
        .values(next_version=RegisteredModelRow.next_version + 1)
        .returning(RegisteredModelRow.next_version)
    )
    assert number is not None
    now = ctx.clock.now()
    row = ModelVersionRow(
        id=new_id("mv"),
        model_id=model.id,
        version=number - 1,
        run_id=run_id,
        source=source[:1000],
        metrics=_json_metrics(metrics),
        stage=Stage.NONE.value,
        traffic_share=None,
        description=description,
        created_by=ctx.actor.user_id,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    model.updated_at = now
    ctx.session.flush()
    ctx.publish(ModelVersionCreated(row.id, model.project_id))
    return _version(row, model.name, _aliases(ctx, model.id))


def version_author(ctx: Context, version_id: str) -> str | None:
    """The id of the user who registered a version (None: unknown or deleted)."""
    version_by_id(ctx, version_id)  # checks the actor may see it
    return ctx.session.scalar(
        select(ModelVersionRow.created_by).where(ModelVersionRow.id == version_id)
    )


def version_project_id(ctx: Context, version_id: str) -> str:
    row = ctx.session.get(ModelVersionRow, version_id)
    if row is None:
        raise NotFound(f"model version {version_id!r} not found")
    model = ctx.session.get(RegisteredModelRow, row.model_id)
    assert model is not None
    accounts.require_role(ctx, model.project_id, Role.VIEWER, what="model version")
    return model.project_id


def _json_metrics(metrics: dict[str, float]) -> dict[str, float | str]:
    # JSON columns cannot hold NaN/Infinity on every backend: store them as strings.
    out: dict[str, float | str] = {}
    for key, value in metrics.items():
        if value != value:
            out[key] = "NaN"
        elif value in (float("inf"), float("-inf")):
            out[key] = "Infinity" if value > 0 else "-Infinity"
        else:
            out[key] = value
    return out


def adopt(ctx: Context, name: str, project_key: str) -> RegisteredModel:
    """Move a model that has no versions yet to another project (MLflow clients create
    registered models before saying which runs they come from)."""
    model = _model_row(ctx, name, Role.CONTRIBUTOR)
    target = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    if model.project_id != target.id:
        if ctx.session.scalar(
            select(ModelVersionRow.id).where(ModelVersionRow.model_id == model.id)
        ):
            raise Conflict(f"model {name!r} already has versions in another project")
        model.project_id = target.id
        ctx.session.flush()
    return _model(ctx, model)


def set_alias(ctx: Context, name: str, alias: str, version: int) -> ModelVersion:
    model, row = _version_row(ctx, name, version, Role.CONTRIBUTOR)
    if not _ALIAS.match(alias) or alias.lower() == "latest":
        raise InvalidInput(f"invalid alias {alias!r}: a letter then letters, digits, '_' or '-'")
    existing = ctx.session.get(ModelAliasRow, (model.id, alias))
    if existing is None:
        ctx.session.add(ModelAliasRow(model_id=model.id, alias=alias, version_id=row.id))
    else:
        existing.version_id = row.id
    ctx.session.flush()
    audit.record(ctx, f"model.alias:{alias}", f"model:{model.id}", payload={"version": row.id})
    return _version(row, model.name, _aliases(ctx, model.id))


def delete_alias(ctx: Context, name: str, alias: str) -> None:
    model = _model_row(ctx, name, Role.CONTRIBUTOR)
    existing = ctx.session.get(ModelAliasRow, (model.id, alias))
    if existing is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}")
    ctx.session.delete(existing)
    audit.record(ctx, f"model.alias_delete:{alias}", f"model:{model.id}")


def version_by_alias(ctx: Context, name: str, alias: str) -> ModelVersion:
    model = _model_row(ctx, name, Role.VIEWER)
    aliases = _aliases(ctx, model.id)
    if alias not in aliases:
        raise NotFound(f"model {name!r} has no alias {alias!r}")
    row = ctx.session.get(ModelVersionRow, aliases[alias])
    assert row is not None
    return _version(row, model.name, aliases)


# --- stages, deployments, rollback -----------------------------------------------------


def _record(
    ctx: Context, row: ModelVersionRow, to: Stage, share: float | None, reason: str
) -> None:
    ctx.session.add(
        StageEventRow(
            version_id=row.id,
            at=ctx.clock.now(),
            from_stage=row.stage,
            to_stage=to.value,
            traffic_share=share,
            actor_id=ctx.actor.user_id,
            reason=reason,
        )
    )
    audit.record(
        ctx,
        f"model_version.stage:{to.value}",
        f"model_version:{row.id}",
        reason=reason,
        payload={"from": row.stage, "to": to.value, "traffic_share": share},
    )
    row.stage, row.traffic_share, row.updated_at = to.value, share, ctx.clock.now()


def _end_deployments(ctx: Context, version_id: str, outcome: str) -> None:
    for dep in ctx.session.scalars(
        select(DeploymentRow).where(
            DeploymentRow.version_id == version_id, DeploymentRow.ended_at.is_(None)
        )
    ):
        dep.ended_at, dep.outcome = ctx.clock.now(), outcome
        audit.record(ctx, f"deployment.end:{outcome}", f"deployment:{dep.id}")


def _deploy(ctx: Context, model: RegisteredModelRow, row: ModelVersionRow, reason: str) -> None:
    stage = Stage(row.stage)
    if stage in ENVIRONMENT:
        deployment = DeploymentRow(
            id=new_id("dep"),
            project_id=model.project_id,
            version_id=row.id,
            environment=ENVIRONMENT[stage],
            traffic_share=row.traffic_share if row.traffic_share is not None else 1.0,
            started_at=ctx.clock.now(),
            ended_at=None,
            outcome="active",
            reason=reason,
        )
        ctx.session.add(deployment)
        audit.record(
            ctx,
            f"deployment.start:{deployment.environment}",
            f"deployment:{deployment.id}",
            reason=reason,
            payload={"version": row.id, "traffic_share": deployment.traffic_share},
        )


def promotion_report(
    ctx: Context, name: str, version: int, to: Stage = Stage.PRODUCTION
) -> list[CheckResult]:
    """What each promotion check that applies to ``to`` says about this version, without
    moving it."""
    model, row = _version_row(ctx, name, version, Role.VIEWER)
    current = _version(row, model.name, _aliases(ctx, model.id))
    found = (check(ctx, current, to) for check in ctx.hooks.promotion_checks)
    return [result for result in found if result is not None]


def _refuse_unless_checks_pass(ctx: Context, name: str, version: int, to: Stage) -> None:
    failing = [r for r in promotion_report(ctx, name, version, to) if not r.passed]
    if failing:
        missing = "; ".join(f"{r.name}: {r.detail}" if r.detail else r.name for r in failing)
        raise Conflict(f"v{version} cannot go to {to.value} yet: {missing}")


def transition(
    ctx: Context,
    name: str,
    version: int,
    to: Stage,
    *,
    traffic_share: float | None = None,
    reason: str = "",
) -> ModelVersion:
    needed = Role.MAINTAINER if to in (Stage.CANARY, Stage.PRODUCTION) else Role.CONTRIBUTOR
    model, row = _version_row(ctx, name, version, needed)
    current = Stage(row.stage)
    if current is to:
        if to is Stage.CANARY and traffic_share is not None and traffic_share != row.traffic_share:
            return _set_share(ctx, model, row, traffic_share, reason)
        return _version(row, model.name, _aliases(ctx, model.id))
    if not can_move(current, to):
        allowed = ", ".join(sorted(s.value for s in Stage if can_move(current, s)))
        raise Conflict(
            f"v{version} cannot go from {current.value} to {to.value}; "
            f"from {current.value} it can go to: {allowed}"
        )
    share: float | None = None
    if to is Stage.CANARY:
        if traffic_share is None or not 0 < traffic_share < 1:
            raise InvalidInput(
                "a canary needs a traffic share between 0 and 1, e.g. 0.01, 0.1, 0.5"
            )
        share = traffic_share
        other = ctx.session.scalar(
            select(ModelVersionRow.version).where(
                ModelVersionRow.model_id == model.id,
                ModelVersionRow.stage == Stage.CANARY.value,
                ModelVersionRow.id != row.id,
            )
        )
        if other is not None:
            raise Conflict(f"v{other} is already the canary of {name}; move it on first")
        _refuse_unless_checks_pass(ctx, name, version, to)
    elif traffic_share is not None:
        raise InvalidInput("a traffic share only applies to canary")
    if to is Stage.PRODUCTION:
        _refuse_unless_checks_pass(ctx, name, version, to)
        for old in ctx.session.scalars(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model.id,
                ModelVersionRow.stage == Stage.PRODUCTION.value,
                ModelVersionRow.id != row.id,
            )
        ):
            _end_deployments(ctx, old.id, "replaced")
            _record(ctx, old, Stage.ARCHIVED, None, f"replaced by v{version}")
        share = 1.0
    _end_deployments(ctx, row.id, "replaced")
    _record(ctx, row, to, share, reason)
    _deploy(ctx, model, row, reason)
    model.updated_at = ctx.clock.now()
    ctx.session.flush()
    return _version(row, model.name, _aliases(ctx, model.id))


def _set_share(
    ctx: Context, model: RegisteredModelRow, row: ModelVersionRow, share: float, reason: str
) -> ModelVersion:
    if not 0 < share < 1:
        raise InvalidInput("a canary needs a traffic share between 0 and 1")
    _end_deployments(ctx, row.id, "replaced")
    _record(ctx, row, Stage.CANARY, share, reason or f"traffic to {share:.0%}")
    _deploy(ctx, model, row, reason)
    ctx.session.flush()
    return _version(row, model.name, _aliases(ctx, model.id))


def rollback(ctx: Context, name: str, reason: str) -> ModelVersion:
    """Return production to the version that held it before the current one."""
    if not reason.strip():
        raise InvalidInput("a rollback needs a reason")
    model = _model_row(ctx, name, Role.MAINTAINER)
    current = ctx.session.scalar(
        select(ModelVersionRow).where(
            ModelVersionRow.model_id == model.id, ModelVersionRow.stage == Stage.PRODUCTION.value
        )
    )
    if current is None:
        raise Conflict(f"{name} has no version in production to roll back")
    promotions = ctx.session.execute(
        select(StageEventRow.version_id)
        .join(ModelVersionRow, ModelVersionRow.id == StageEventRow.version_id)
        .where(
            ModelVersionRow.model_id == model.id,
            StageEventRow.to_stage == Stage.PRODUCTION.value,
        )
        .order_by(StageEventRow.at.desc(), StageEventRow.id.desc())
    ).scalars()
    previous_id = next((vid for vid in promotions if vid != current.id), None)
    previous = ctx.session.get(ModelVersionRow, previous_id) if previous_id else None
    if previous is None:
        raise Conflict(
            f"{name} v{current.version} is the first production version: nothing to roll back to"
        )
    _end_deployments(ctx, current.id, "rolled_back")
    _record(ctx, current, Stage.ARCHIVED, None, f"rolled back: {reason}")
    _end_deployments(ctx, previous.id, "replaced")
    _record(ctx, previous, Stage.PRODUCTION, 1.0, f"rollback from v{current.version}: {reason}")
    _deploy(ctx, model, previous, f"rollback: {reason}")
    model.updated_at = ctx.clock.now()
    ctx.session.flush()
    return _version(previous, model.name, _aliases(ctx, model.id))


def stage_history(ctx: Context, name: str) -> list[StageEvent]:
    model = _model_row(ctx, name, Role.VIEWER)
    rows = ctx.session.execute(
        select(StageEventRow, ModelVersionRow.version)
        .join(ModelVersionRow, ModelVersionRow.id == StageEventRow.version_id)
        .where(ModelVersionRow.model_id == model.id)
        .order_by(StageEventRow.at, StageEventRow.id)
    ).all()
    names = accounts.usernames(ctx.session, {e.actor_id for e, _ in rows if e.actor_id})
    return [
        StageEvent(
            v,
            e.at,
            Stage(e.from_stage),
            Stage(e.to_stage),
            e.traffic_share,
            names.get(e.actor_id or ""),
            e.reason,
        )
        for e, v in rows
    ]


def _deployment(row: DeploymentRow, project_key: str, model: str, version: int) -> Deployment:
    return Deployment(
        row.id,
        project_key,
        model,
        version,
        row.environment,
        row.traffic_share,
        row.started_at,
        row.ended_at,
        row.outcome,
        row.reason,
    )


def list_deployments(
    ctx: Context, project_key: str, *, active_only: bool = False
) -> list[Deployment]:
    project = projects.resolve_project(ctx, project_key)
    query = (
        select(DeploymentRow, RegisteredModelRow.name, ModelVersionRow.version)
        .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.model_id)
        .where(DeploymentRow.project_id == project.id)
        .order_by(DeploymentRow.started_at.desc(), DeploymentRow.id)
    )
    if active_only:
        query = query.where(DeploymentRow.ended_at.is_(None))
    return [_deployment(d, project.key, n, v) for d, n, v in ctx.session.execute(query).all()]


def deployments_of_versions(ctx: Context, version_ids: Sequence[str]) -> list[Deployment]:
    """Deployments of these versions (lineage); the caller checked project access."""
    if not version_ids:
        return []
    rows = ctx.session.execute(
        select(
            DeploymentRow,
            RegisteredModelRow.name,
            ModelVersionRow.version,
            RegisteredModelRow.project_id,
        )
        .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
        .join(RegisteredModelRow, RegisteredModelRow.id == ModelVersionRow.model_id)
        .where(DeploymentRow.version_id.in_(version_ids))
        .order_by(DeploymentRow.started_at)
    ).all()
    keys = projects.project_keys(ctx, {r[3] for r in rows})
    return [_deployment(d, keys[pid], n, v) for d, n, v, pid in rows]


def deployment_source(ctx: Context, deployment_id: str) -> tuple[Deployment, ModelVersion]:
    row = ctx.session.get(DeploymentRow, deployment_id)
    if row is None:
        raise NotFound(f"deployment {deployment_id!r} not found")
    project = projects.project_by_id(ctx, row.project_id)
    version = ctx.session.get(ModelVersionRow, row.version_id)
    assert version is not None
    model = ctx.session.get(RegisteredModelRow, version.model_id)
    assert model is not None
    return (
        _deployment(row, project.key, model.name, version.version),
        _version(version, model.name, _aliases(ctx, model.id)),
    )


# --- incidents and delivery metrics ----------------------------------------------------


def _incident(row: IncidentRow, project_key: str) -> Incident:
    return Incident(
        row.id,
        project_key,
        row.deployment_id,
        row.title,
        row.severity,
        row.opened_at,
        row.resolved_at,
        row.notes,
    )


def open_incident(
    ctx: Context,
    project_key: str,
    title: str,
    *,
    severity: str = "sev3",
    deployment_id: str | None = None,
    notes: str = "",
) -> Incident:
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    if severity not in SEVERITIES:
        raise InvalidInput(f"severity must be one of {', '.join(SEVERITIES)}")
    if not title.strip() or len(title) > 200:
        raise InvalidInput("incident title must have 1 to 200 characters")
    if deployment_id is not None:
        dep = ctx.session.get(DeploymentRow, deployment_id)
        if dep is None or dep.project_id != project.id:
            raise NotFound(f"deployment {deployment_id!r} not found in {project.key}")
    row = IncidentRow(
        id=new_id("inc"),
        project_id=project.id,
        deployment_id=deployment_id,
        title=title.strip(),
        severity=severity,
        opened_at=ctx.clock.now(),
        resolved_at=None,
        notes=notes,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _incident(row, project.key)


def resolve_incident(ctx: Context, incident_id: str, notes: str = "") -> Incident:
    row = ctx.session.get(IncidentRow, incident_id)
    if row is None:
        raise NotFound(f"incident {incident_id!r} not found")
    project = projects.project_by_id(ctx, row.project_id, Role.CONTRIBUTOR)
    if row.resolved_at is not None:
        raise Conflict("incident already resolved")
    row.resolved_at = ctx.clock.now()
    if notes:
        row.notes = (row.notes + "\n" + notes).strip()
    ctx.session.flush()
    return _incident(row, project.key)


def list_incidents(ctx: Context, project_key: str) -> list[Incident]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(IncidentRow)
        .where(IncidentRow.project_id == project.id)
        .order_by(IncidentRow.opened_at.desc())
    )
    return [_incident(r, project.key) for r in rows]


def delivery_metrics(ctx: Context, project_key: str, *, days: int = 90) -> DeliveryMetrics:
    if not 7 <= days <= 3650:
        raise InvalidInput("days must be 7 to 3650")
    project = projects.resolve_project(ctx, project_key)
    now = ctx.clock.now()
    start = now - timedelta(days=days)
    prod = ctx.session.execute(
        select(DeploymentRow, ModelVersionRow.run_id, ModelVersionRow.created_at)
        .join(ModelVersionRow, ModelVersionRow.id == DeploymentRow.version_id)
        .where(
            DeploymentRow.project_id == project.id,
            DeploymentRow.environment == "production",
            DeploymentRow.traffic_share >= 1.0,
            DeploymentRow.started_at >= start,
        )
    ).all()
    releases = [
        (d, run_id, created) for d, run_id, created in prod if not d.reason.startswith("rollback")
    ]
    rolled_back = sum(1 for d, _, _ in prod if d.outcome == "rolled_back")
    run_ends: dict[str, datetime] = {
        run.id: run.end_time
        for run in tracking.runs_by_ids(ctx, [r for _, r, _ in releases if r])
        if run.end_time is not None
    }
    lead_hours = [
        (d.started_at - (run_ends.get(run_id or "") or created)).total_seconds() / 3600
        for d, run_id, created in releases
    ]
    daily = [0] * (days + 1)
    for d, _, _ in releases:
        daily[min((d.started_at.date() - start.date()).days, days)] += 1
    incidents = ctx.session.scalars(
        select(IncidentRow).where(
            IncidentRow.project_id == project.id,
            IncidentRow.resolved_at.is_not(None),
            IncidentRow.opened_at >= start,
        )
    ).all()
    recovery = [
        ((i.resolved_at or i.opened_at) - i.opened_at).total_seconds() / 3600 for i in incidents
    ]
    return DeliveryMetrics(
        project_key=project.key,
        first=start.date(),
        last=now.date(),
        production_deployments=len(releases),
        deployments_per_week=len(releases) / (days / 7),
        lead_time_hours_median=statistics.median(lead_hours) if lead_hours else None,
        change_failure_rate=rolled_back / len(releases) if releases else None,
        mean_time_to_recovery_hours=statistics.fmean(recovery) if recovery else None,
        weekly_deployments=tuple(weekly(daily, start.date())),
    )
