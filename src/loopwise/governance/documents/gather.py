"""Gathering the record a document is built from, through the other slices' services (never
their tables), into plain dataclasses the pure builders read. Reading needs only the
project's viewer role: every service called here checks it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.data import service as data
from loopwise.data.models import DatasetVersion, Readiness, RunDataset
from loopwise.governance import audits, explanations
from loopwise.governance import service as gates
from loopwise.governance.models import Explanation, FairnessAuditRecord, Gate, SignoffKind
from loopwise.monitoring import service as monitoring
from loopwise.monitoring.models import Alert, Monitor
from loopwise.planning.hypotheses import service as hypotheses
from loopwise.planning.hypotheses.models import Hypothesis
from loopwise.planning.risks import service as risks
from loopwise.planning.risks.models import Risk
from loopwise.projects import service as projects
from loopwise.projects.models import PhaseChange, Project
from loopwise.registry import evaluations
from loopwise.registry import service as registry
from loopwise.registry.evaluations import EvaluationRecord
from loopwise.registry.models import (
    Deployment,
    Incident,
    ModelVersion,
    RegisteredModel,
    StageEvent,
)
from loopwise.tracking import service as tracking
from loopwise.tracking.models import Run


@dataclass(frozen=True)
class ModelRecord:
    """One model version and what the record holds about it."""

    model: RegisteredModel
    version: ModelVersion
    run: Run | None  # the run it was registered from
    run_datasets: tuple[RunDataset, ...]  # the dataset versions that run used
    datasets: tuple[DatasetVersion, ...]  # those versions, in the same order
    evaluations: tuple[EvaluationRecord, ...]  # of this version, newest first
    fairness: tuple[FairnessAuditRecord, ...]  # newest first
    gates: tuple[Gate, ...]
    monitors: tuple[Monitor, ...]  # watching this version
    alerts: tuple[Alert, ...]  # of those monitors
    stage_history: tuple[StageEvent, ...]  # of this version
    deployments: tuple[Deployment, ...]  # of this version
    explanations: tuple[Explanation, ...]  # the newest of each method, permutation first


@dataclass(frozen=True)
class ProjectRecord:
    project: Project
    base_url: str  # prefix of every link; "" keeps them relative
    generated_at: datetime
    risk_tier: str | None  # the note of the intake gate's risk_tier attestation
    risk_tier_gate: str | None  # that gate's id
    phase_history: tuple[PhaseChange, ...]
    gates: tuple[Gate, ...]  # the project's phase gates and its versions' gates
    risks: tuple[Risk, ...]
    hypotheses: tuple[Hypothesis, ...]
    datasets: tuple[DatasetVersion, ...]  # newest version of each dataset
    dataset: DatasetVersion | None  # the datasheet's subject
    readiness: Readiness | None  # of that dataset version
    dataset_runs: tuple[RunDataset, ...]  # runs that used it
    incidents: tuple[Incident, ...]
    model: ModelRecord | None  # the model card's and Annex IV's subject


def _pick_version(
    ctx: Context, project: Project, model: str | None, version: int | None
) -> tuple[RegisteredModel, ModelVersion] | None:
    """The version named, else the model's production version (or its newest); with no
    model named, the project's model in production (or its newest model)."""
    if version is not None and model is None:
        raise InvalidInput("name the model of that version (--model)")
    if model is not None:
        found = registry.get_model(ctx, model)
        if found.project_key != project.key:
            raise InvalidInput(f"model {model!r} belongs to another project")
        candidates = [found]
    else:
        candidates = sorted(
            registry.list_models(ctx, project.key),
            key=lambda m: (m.production_version is not None, m.updated_at),
            reverse=True,
        )
    if not candidates:
        return None
    chosen = candidates[0]
    number = version or chosen.production_version or chosen.latest_version
    if number is None:
        return None
    return chosen, registry.get_version(ctx, chosen.name, number)


def _model_record(
    ctx: Context, project: Project, model: RegisteredModel, version: ModelVersion
) -> ModelRecord:
    run = tracking.get_run(ctx, version.run_id) if version.run_id else None
    used = tuple(data.datasets_of_run(ctx, run.id)) if run else ()
    monitors = tuple(
        m for m in monitoring.list_monitors(ctx, project.key) if m.model_version_id == version.id
    )
    watching = {m.id for m in monitors}
    return ModelRecord(
        model=model,
        version=version,
        run=run,
        run_datasets=used,
        datasets=tuple(data.get_version(ctx, u.version_id) for u in used),
        evaluations=tuple(
            e
            for e in evaluations.list_for_project(ctx, project.key)
            if e.model == model.name and e.version == version.version
        ),
        fairness=tuple(audits.list_audits(ctx, model.name, version.version)),
        gates=tuple(gates.version_gates(ctx, model.name, version.version)),
        monitors=monitors,
        alerts=tuple(
            a for a in monitoring.list_alerts(ctx, project.key) if a.monitor_id in watching
        ),
        stage_history=tuple(
            e for e in registry.stage_history(ctx, model.name) if e.version == version.version
        ),
        deployments=tuple(
            d
            for d in registry.list_deployments(ctx, project.key)
            if d.model == model.name and d.version == version.version
        ),
        explanations=tuple(explanations.latest_explanations(ctx, model.name, version.version)),
    )


def _risk_tier(all_gates: list[Gate]) -> tuple[str | None, str | None]:
    for gate in all_gates:
        if gate.template != "intake":
            continue
        notes = [
            s.note
            for s in gate.signoffs
            if s.kind is SignoffKind.ATTEST and s.target == "risk_tier" and s.note
        ]
        if notes:
            return notes[-1], gate.id
    return None, None


def gather(
    ctx: Context,
    project_key: str,
    *,
    model: str | None = None,
    version: int | None = None,
    dataset_version_id: str | None = None,
    base_url: str = "",
) -> ProjectRecord:
    """The record of a project for its documents: the model version and dataset version
    they describe (chosen as ``_pick_version`` says, and the project's newest dataset
    version unless one is named)."""
    project = projects.resolve_project(ctx, project_key)
    latest = sorted(
        data.latest_versions(ctx, project.key).values(), key=lambda v: v.created_at, reverse=True
    )
    dataset: DatasetVersion | None = latest[0] if latest else None
    if dataset_version_id is not None:
        dataset = data.get_version(ctx, dataset_version_id)
        if dataset.project_key != project.key:
            raise InvalidInput(f"dataset version {dataset_version_id} belongs to another project")
    picked = _pick_version(ctx, project, model, version)
    all_gates = gates.list_gates(ctx, project.key)
    tier, tier_gate = _risk_tier(all_gates)
    try:
        readiness = data.readiness(ctx, dataset.id) if dataset else None
    except NotFound:
        readiness = None
    return ProjectRecord(
        project=project,
        base_url=base_url.rstrip("/"),
        generated_at=ctx.clock.now(),
        risk_tier=tier,
        risk_tier_gate=tier_gate,
        phase_history=tuple(projects.phase_history(ctx, project.key)),
        gates=tuple(all_gates),
        risks=tuple(risks.list_risks(ctx, project.key)),
        hypotheses=tuple(hypotheses.list_hypotheses(ctx, project.key)),
        datasets=tuple(latest),
        dataset=dataset,
        readiness=readiness,
        dataset_runs=tuple(data.runs_using(ctx, dataset.id)) if dataset else (),
        incidents=tuple(registry.list_incidents(ctx, project.key)),
        model=_model_record(ctx, project, *picked) if picked else None,
    )
