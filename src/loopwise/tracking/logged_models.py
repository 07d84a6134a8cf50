"""MLflow 3 logged models: a model's artifacts logged from a run before it is registered.

Artifacts live in ``<artifact_root>/<project_id>/models/<model_id>/``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.tracking import service as tracking
from loopwise.tracking.tables import ExperimentRow, LoggedModelRow

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


def _model(ctx: Context, row: LoggedModelRow) -> LoggedModel:
    exp = ctx.session.get(ExperimentRow, row.experiment_id)
    assert exp is not None
    return LoggedModel(
        row.id,
        row.experiment_id,
        int(exp.number or 0),
        exp.project_id,
        row.name,
        row.source_run_id,
        row.status,
        row.model_type,
        dict(row.tags),
        dict(row.params),
        row.created_at,
        row.updated_at,
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
    name: str,
    *,
    source_run_id: str | None = None,
    model_type: str = "",
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> LoggedModel:
    exp = ctx.session.get(ExperimentRow, experiment_id)
    if exp is None:
        raise NotFound("experiment not found")
    accounts.require_role(ctx, exp.project_id, Role.CONTRIBUTOR)
    if (
        source_run_id is not None
        and tracking.run_project_id(ctx, source_run_id, Role.CONTRIBUTOR) != exp.project_id
    ):
        raise InvalidInput("the source run is in another project")
    if not name.strip() or len(name) > 250:
        raise InvalidInput("model name must have 1 to 250 characters")
    now = ctx.clock.now()
    row = LoggedModelRow(
        id=f"m-{secrets.token_hex(16)}",
        experiment_id=exp.id,
        name=name.strip(),
        source_run_id=source_run_id,
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
        column = LoggedModelRow.name if field == "name" else LoggedModelRow.source_run_id
        if field == "source_run_id" and not value.startswith("run_"):
            value = f"run_{value}"
        query = query.where(column == value)
    rows = ctx.session.scalars(query.order_by(LoggedModelRow.created_at.desc()))
    return [_model(ctx, r) for r in rows]


def folder(ctx: Context, model_id: str, needed: Role) -> Path:
    model = _model(ctx, _row(ctx, model_id, needed))
    return ctx.settings.resolved_artifact_root / model.project_id / "models" / model.id
