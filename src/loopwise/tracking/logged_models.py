"""MLflow 3 logged models: a model's artifacts logged from a run before it is registered.

Artifacts live in ``<artifact_root>/<project_id>/models/<model_id>/``.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.core.types import json_float
from loopwise.tracking import service as tracking
from loopwise.tracking.tables import ExperimentRow, LoggedModelRow, RunModelRow, RunRow

STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")
_FILTER = re.compile(r"^\s*(name|source_run_id)\s*=\s*'([^']*)'\s*$")


@dataclass(frozen=True)
class LoggedModel:
    id: str
    experiment_id: str
    experiment_number: int
    project_id: str
    name: str
    source_run_id: str | None
    status: str
    model_type: str
    tags: dict[str, str]
    params: dict[str, str]
    created_at: datetime
    updated_at: datetime
    # points logged with this model's id: key, value, timestamp, step, run_id
    metrics: tuple[dict[str, object], ...] = ()


def _model(ctx: Context, row: LoggedModelRow) -> LoggedModel:
    exp = ctx.session.get(ExperimentRow, row.experiment_id)
    assert exp is not None
    return LoggedModel(
        row.id,
        row.experiment_id,
        int(exp.number or 0),
        exp.project_id,
        row.name,
        row.source_run_id or row.source_run_ref,
        row.status,
        row.model_type,
        dict(row.tags),
        dict(row.params),
        row.created_at,
        row.updated_at,
        tuple(row.metrics or ()),
    )


def _row(ctx: Context, model_id: str, needed: Role) -> LoggedModelRow:
    row = ctx.session.get(LoggedModelRow, model_id)
    if row is None:
        raise NotFound(f"Logged model with ID '{model_id}' not found.")
    exp = ctx.session.get(ExperimentRow, row.experiment_id)
    assert exp is not None
    accounts.require_role(ctx, exp.project_id, needed, what=f"logged model {model_id}")
    return row


def create(
    ctx: Context,
    experiment_id: str,
    name: str | None,
    *,
    source_run_id: str | None = None,
    model_type: str = "",
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> LoggedModel:
    """A logged model. Without a name it gets a made-up one (as MLflow's server does). A
    source run that exists must be in the experiment's project; any other text is kept
    as given (MLflow keeps it without checking)."""
    exp = ctx.session.get(ExperimentRow, experiment_id)
    if exp is None:
        raise NotFound("experiment not found")
    accounts.require_role(ctx, exp.project_id, Role.CONTRIBUTOR)
    if exp.lifecycle_stage != "active":
        raise InvalidInput(
            f"The experiment {exp.number} must be in the 'active' state. "
            f"Current state is {exp.lifecycle_stage}."
        )
    known_run = source_run_id is not None and ctx.session.get(RunRow, source_run_id) is not None
    if known_run:
        assert source_run_id is not None
        if tracking.run_project_id(ctx, source_run_id, Role.CONTRIBUTOR) != exp.project_id:
            raise InvalidInput("the source run is in another project")
    elif source_run_id is not None and len(source_run_id) > 64:
        raise InvalidInput("source_run_id must have at most 64 characters")
    model_id = f"m-{secrets.token_hex(16)}"
    name = name if name is not None and name.strip() else f"model-{model_id[2:10]}"
    if len(name) > 250:
        raise InvalidInput("model name must have 1 to 250 characters")
    now = ctx.clock.now()
    row = LoggedModelRow(
        id=model_id,
        experiment_id=exp.id,
        name=name.strip(),
        source_run_id=source_run_id if known_run else None,
        source_run_ref=None if known_run else source_run_id,
        metrics=[],
        status=STATUSES[0],
        model_type=model_type[:100],
        tags=dict(tags or {}),
        params=dict(params or {}),
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return _model(ctx, row)


def get(ctx: Context, model_id: str) -> LoggedModel:
    return _model(ctx, _row(ctx, model_id, Role.VIEWER))


def update(
    ctx: Context, model_id: str, *, status: str | None = None, tags: dict[str, str] | None = None
) -> LoggedModel:
    row = _row(ctx, model_id, Role.CONTRIBUTOR)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}")
        row.status = status
    if tags:
        row.tags = {**row.tags, **tags}
    row.updated_at = ctx.clock.now()
    ctx.session.flush()
    return _model(ctx, row)


def delete(ctx: Context, model_id: str) -> None:
    """Delete a logged model (its links to runs go with it); later reads find nothing."""
    row = _row(ctx, model_id, Role.CONTRIBUTOR)
    ctx.session.delete(row)
    ctx.session.flush()


MODEL_VERSIONS_TAG = "mlflow.modelVersions"


def add_model_version(ctx: Context, model_id: str, name: str, version: int) -> None:
    """Note on the logged model that a registered version was made from it (MLflow's
    ``mlflow.modelVersions`` tag: a JSON list of ``{"name", "version"}``)."""
    row = _row(ctx, model_id, Role.CONTRIBUTOR)
    entry = {"name": name, "version": str(version)}
    try:
        known = json.loads(row.tags.get(MODEL_VERSIONS_TAG) or "[]")
    except ValueError:
        known = []
    if not isinstance(known, list):
        known = []
    if entry not in known:
        known.append(entry)
    row.tags = {**row.tags, MODEL_VERSIONS_TAG: json.dumps(known)}
    ctx.session.flush()


def delete_tag(ctx: Context, model_id: str, key: str) -> None:
    row = _row(ctx, model_id, Role.CONTRIBUTOR)
    tags = dict(row.tags)
    if key not in tags:
        raise NotFound(f"No tag with key {key!r} found for model with ID {model_id!r}.")
    del tags[key]
    row.tags = tags
    row.updated_at = ctx.clock.now()
    ctx.session.flush()


def log_params(ctx: Context, model_id: str, params: dict[str, str]) -> None:
    row = _row(ctx, model_id, Role.CONTRIBUTOR)
    row.params = {**row.params, **params}
    row.updated_at = ctx.clock.now()
    ctx.session.flush()


def log_metrics(
    ctx: Context, run_id: str, points: list[tuple[str, str, int, int | None, float]]
) -> None:
    """Metric points a run logged with a model id ``(model_id, key, step, timestamp,
    value)``: kept on each model too (MLflow's model metrics). The run's own history
    holds them as well; the caller logged them there."""
    by_model: dict[str, list[dict[str, object]]] = {}
    for model_id, key, step, timestamp, value in points:
        by_model.setdefault(model_id, []).append(
            {
                "key": key,
                "value": json_float(value),  # PostgreSQL's JSON holds no NaN
                "timestamp": timestamp or 0,
                "step": step,
                "run_id": run_id,
            }
        )
    for model_id, rows in by_model.items():
        row = _row(ctx, model_id, Role.CONTRIBUTOR)
        row.metrics = [*(row.metrics or []), *rows]
    ctx.session.flush()


def link_run(ctx: Context, run_id: str, model_id: str, direction: str, step: int = 0) -> None:
    """Record that a run used (``input``) or produced (``output``) a logged model."""
    if direction not in ("input", "output"):
        raise InvalidInput("direction must be input or output")
    run_project = tracking.run_project_id(ctx, run_id, Role.CONTRIBUTOR)
    if _model(ctx, _row(ctx, model_id, Role.VIEWER)).project_id != run_project:
        raise InvalidInput("the run and the logged model belong to different projects")
    found = ctx.session.get(RunModelRow, (run_id, model_id, direction))
    if found is None:
        ctx.session.add(
            RunModelRow(run_id=run_id, model_id=model_id, direction=direction, step=step)
        )
    else:
        found.step = step
    ctx.session.flush()


def models_of_run(ctx: Context, run_id: str) -> list[tuple[str, str, int]]:
    """(model_id, direction, step) of the run's model inputs and outputs; the caller
    checked access to the run."""
    rows = ctx.session.execute(
        select(RunModelRow.model_id, RunModelRow.direction, RunModelRow.step)
        .where(RunModelRow.run_id == run_id)
        .order_by(RunModelRow.model_id)
    ).all()
    return [(m, d, int(s)) for m, d, s in rows]


def search(ctx: Context, experiment_ids: list[str], filter_string: str | None) -> list[LoggedModel]:
    """Logged models of these experiments; the filter may be ``name = '...'`` and/or
    ``source_run_id = '...'`` joined by AND (what MLflow clients send)."""
    query = select(LoggedModelRow).where(LoggedModelRow.experiment_id.in_(experiment_ids))
    for part in re.split(r"\s+AND\s+", filter_string or "", flags=re.IGNORECASE):
        if not part.strip():
            continue
        m = _FILTER.match(part)
        if m is None:
            raise InvalidInput(f"unsupported logged-model filter {part!r}")
        field, value = m.groups()
        if field == "name":
            query = query.where(LoggedModelRow.name == value)
            continue
        if not value.startswith("run_"):
            value = f"run_{value}"
        query = query.where(
            or_(LoggedModelRow.source_run_id == value, LoggedModelRow.source_run_ref == value)
        )
    rows = ctx.session.scalars(query.order_by(LoggedModelRow.created_at.desc()))
    return [_model(ctx, r) for r in rows]


def folder(ctx: Context, model_id: str, needed: Role) -> Path:
    model = _model(ctx, _row(ctx, model_id, needed))
    return ctx.settings.resolved_artifact_root / model.project_id / "models" / model.id
