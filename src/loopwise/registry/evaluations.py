"""Stored evaluations of model versions on dataset versions, and champion vs challenger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.ids import new_id
from loopwise.data import service as data
from loopwise.numeric import evaluation as neval
from loopwise.projects import service as projects
from loopwise.registry import service as registry
from loopwise.registry.tables import EvaluationRow
from loopwise.tracking import service as tracking

_EVAL = TypeAdapter(neval.Evaluation)


@dataclass(frozen=True)
class EvaluationRecord:
    id: str
    project_key: str
    model: str | None
    version: int | None
    run_id: str | None
    dataset_version_id: str | None
    evaluation: neval.Evaluation
    created_at: datetime


@dataclass(frozen=True)
class Comparison:
    model: str
    dataset_version_id: str
    champion: EvaluationRecord
    challenger: EvaluationRecord
    rows: tuple[tuple[str, float, float, float], ...]  # metric, champion, challenger, delta


def _record(ctx: Context, row: EvaluationRow, project_key: str) -> EvaluationRecord:
    model = version = None
    if row.model_version_id:
        mv = registry.version_by_id(ctx, row.model_version_id)
        model, version = mv.model, mv.version
    return EvaluationRecord(
        row.id,
        project_key,
        model,
        version,
        row.run_id,
        row.dataset_version_id,
        _EVAL.validate_python(row.result),
        row.created_at,
    )


def record(
    ctx: Context,
    project_key: str,
    task: neval.Task,
    # the caller's JSON values, whatever they hold: numpy reads them, and values that are
    # not numbers where numbers are needed become InvalidInput below
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    *,
    y_score: Sequence[Any] | None = None,
    features: Sequence[Sequence[float]] | None = None,
    slices: Sequence[Any] | None = None,
    slice_column: str | None = None,
    model: str | None = None,
    version: int | None = None,
    run_id: str | None = None,
    dataset_version_id: str | None = None,
    n_boot: int = neval.DEFAULT_BOOT,
    seed: int = 0,
) -> EvaluationRecord:
    """Evaluate predictions against labels and keep the result."""
    project = projects.resolve_project(ctx, project_key, Role.CONTRIBUTOR)
    model_version_id = None
    if model is not None:
        if version is None:
            raise InvalidInput("give the model version to evaluate")
        mv = registry.get_version(ctx, model, version)
        if registry.get_model(ctx, model).project_key != project.key:
            raise InvalidInput(f"model {model!r} is not in project {project.key}")
        model_version_id = mv.id
    if dataset_version_id is not None:
        dsv = data.get_version(ctx, dataset_version_id)
        if dsv.project_key != project.key:
            raise InvalidInput("the dataset version is in another project")
    if (
        run_id is not None
        and projects.project_by_id(ctx, _run_project(ctx, run_id)).key != project.key
    ):
        raise InvalidInput("the run is in another project")
    if not 0 <= n_boot <= 5000:
        raise InvalidInput("n_boot must be 0 to 5000")
    try:
        if task is neval.Task.CLASSIFICATION:
            result = neval.evaluate_classification(
                y_true,
                y_pred,
                y_score,
                slices=slices,
                slice_column=slice_column,
                n_boot=n_boot,
                seed=seed,
            )
        elif task is neval.Task.REGRESSION:
            result = neval.evaluate_regression(
                y_true, y_pred, slices=slices, slice_column=slice_column, n_boot=n_boot, seed=seed
            )
        else:
            if features is None:
                raise InvalidInput("clustering needs the feature matrix")
            result = neval.evaluate_clustering(features, y_pred, n_boot=min(n_boot, 50), seed=seed)
    except (neval.EvaluationError, ValueError, TypeError) as exc:
        # Values that are not numbers where numbers are needed: float("a") raises
        # ValueError, float({}) TypeError; both are the caller's data, not our bug.
        raise InvalidInput(str(exc)) from exc
    row = EvaluationRow(
        id=new_id("ev"),
        project_id=project.id,
        model_version_id=model_version_id,
        run_id=run_id,
        dataset_version_id=dataset_version_id,
        task=task.value,
        result=_EVAL.dump_python(result, mode="json"),
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _record(ctx, row, project.key)


def _run_project(ctx: Context, run_id: str) -> str:
    return tracking.run_project_id(ctx, run_id, Role.VIEWER)


def get(ctx: Context, evaluation_id: str) -> EvaluationRecord:
    row = ctx.session.get(EvaluationRow, evaluation_id)
    if row is None:
        raise NotFound(f"evaluation {evaluation_id!r} not found")
    project = projects.project_by_id(ctx, row.project_id)
    return _record(ctx, row, project.key)


def list_for_project(ctx: Context, project_key: str) -> list[EvaluationRecord]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(EvaluationRow)
        .where(EvaluationRow.project_id == project.id)
        .order_by(EvaluationRow.created_at.desc())
    )
    return [_record(ctx, r, project.key) for r in rows]


def _latest(
    ctx: Context, model_version_id: str, dataset_version_id: str | None
) -> EvaluationRow | None:
    query = select(EvaluationRow).where(EvaluationRow.model_version_id == model_version_id)
    if dataset_version_id is not None:
        query = query.where(EvaluationRow.dataset_version_id == dataset_version_id)
    return ctx.session.scalar(query.order_by(EvaluationRow.created_at.desc()).limit(1))


def latest_for_version(ctx: Context, model_version_id: str) -> EvaluationRecord | None:
    """The newest stored evaluation of a model version, on any dataset version."""
    row = _latest(ctx, model_version_id, None)
    if row is None:
        return None
    return _record(ctx, row, projects.project_by_id(ctx, row.project_id).key)


def champion_vs_challenger(
    ctx: Context,
    model: str,
    *,
    champion: str = "champion",
    challenger: str = "challenger",
    dataset_version_id: str | None = None,
) -> Comparison:
    """The two aliased versions side by side on the same evaluation dataset version."""
    a = registry.version_by_alias(ctx, model, champion)
    b = registry.version_by_alias(ctx, model, challenger)
    row_b = _latest(ctx, b.id, dataset_version_id)
    if row_b is None or row_b.dataset_version_id is None:
        raise NotFound(f"{model}@{challenger} has no evaluation on a registered dataset version")
    row_a = _latest(ctx, a.id, row_b.dataset_version_id)
    if row_a is None:
        raise NotFound(f"{model}@{champion} has no evaluation on the challenger's dataset version")
    project_key = registry.get_model(ctx, model).project_key
    ra, rb = _record(ctx, row_a, project_key), _record(ctx, row_b, project_key)
    return Comparison(
        model, row_b.dataset_version_id, ra, rb, neval.compare(ra.evaluation, rb.evaluation)
    )
