"""Experiment operations beyond get-or-create: lookup by MLflow number or name, tags,
delete/restore, search; and run lifecycle (rename, delete, restore).

MLflow mapping rule (documented in README): an experiment named ``KEY/name`` is the
experiment ``name`` of project ``KEY``; a name that is exactly a project key is that
project's ``Default`` experiment; any other name, and MLflow's experiment ``0``, live in
the default MLflow project (``MLFLOW``, created on first use).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, InvalidInput, NotFound
from loopwise.core.limits import INT64_MAX
from loopwise.projects import service as projects
from loopwise.projects.models import Project
from loopwise.projects.schemas import ProjectCreate
from loopwise.tracking import service as tracking
from loopwise.tracking.tables import ExperimentRow, RunRow

MLFLOW_PROJECT = "MLFLOW"
DEFAULT_EXPERIMENT = "Default"


@dataclass(frozen=True)
class ExperimentInfo:
    id: str
    number: int
    project_id: str
    project_key: str
    name: str  # the Loopwise experiment name within its project
    mlflow_name: str  # the name MLflow clients see
    lifecycle_stage: str
    tags: dict[str, str]
    created_at_ms: int
    artifact_location: str | None = None  # as an MLflow client asked at creation


def _info(ctx: Context, row: ExperimentRow) -> ExperimentInfo:
    key = projects.project_keys(ctx, {row.project_id})[row.project_id]
    if key == MLFLOW_PROJECT:
        mlflow_name = row.name
    elif row.name == DEFAULT_EXPERIMENT:
        mlflow_name = key
    else:
        mlflow_name = f"{key}/{row.name}"
    return ExperimentInfo(
        row.id,
        int(row.number or 0),
        row.project_id,
        key,
        row.name,
        mlflow_name,
        row.lifecycle_stage,
        dict(row.tags or {}),
        int(row.created_at.timestamp() * 1000),
        row.artifact_location,
    )


def _mlflow_project(ctx: Context) -> Project:
    """The default project for MLflow experiments without a project; made on first use
    (by whichever of several concurrent first requests gets there first)."""
    return projects.ensure_project(
        ctx,
        ProjectCreate(
            key=MLFLOW_PROJECT,
            name="MLflow experiments",
            description="Experiments logged by MLflow clients without a project key.",
        ),
        Role.CONTRIBUTOR,
    )


def split_name(ctx: Context, mlflow_name: str) -> tuple[str, str]:
    """(project key, experiment name) for an MLflow experiment name."""
    name = mlflow_name.strip()
    if not name:
        raise InvalidInput("experiment name must not be empty")
    head, sep, rest = name.partition("/")
    if sep and rest.strip() and _project_exists(ctx, head):
        return head.upper(), rest.strip()
    if not sep and _project_exists(ctx, name) and name.upper() != MLFLOW_PROJECT:
        return name.upper(), DEFAULT_EXPERIMENT
    return _mlflow_project(ctx).key, name


def _project_exists(ctx: Context, key: str) -> bool:
    try:
        projects.resolve_project(ctx, key)
        return True
    except NotFound:
        return False


def by_number(ctx: Context, number: int, needed: Role = Role.VIEWER) -> ExperimentInfo:
    if number == 0:
        return default_experiment(ctx)
    row = (
        ctx.session.scalar(select(ExperimentRow).where(ExperimentRow.number == number))
        if 0 < number <= INT64_MAX
        else None
    )
    if row is None:
        raise NotFound(f"Could not find experiment with ID {number}")
    accounts.require_role(ctx, row.project_id, needed, what=f"experiment {number}")
    return _info(ctx, row)


def ids_by_number(ctx: Context, numbers: Sequence[int]) -> dict[str, int]:
    """{experiment id: number} for these MLflow experiment numbers, each checked for the
    viewer role: what a search needs, in one query (``by_number`` loads the whole row)."""
    found = {
        number: (exp_id, project_id)
        for exp_id, number, project_id in ctx.session.connection().execute(
            select(ExperimentRow.id, ExperimentRow.number, ExperimentRow.project_id).where(
                ExperimentRow.number.in_({n for n in numbers if 0 < n <= INT64_MAX})
            )
        )
    }
    out: dict[str, int] = {}
    for number in numbers:
        if number == 0:
            out[default_experiment(ctx).id] = 0
            continue
        if number not in found:
            raise NotFound(f"Could not find experiment with ID {number}")
        exp_id, project_id = found[number]
        accounts.require_role(ctx, project_id, Role.VIEWER, what=f"experiment {number}")
        out[exp_id] = number
    return out


def default_experiment(ctx: Context) -> ExperimentInfo:
    """MLflow's experiment 0: the Default experiment of the MLFLOW project."""
    row = ctx.session.scalar(select(ExperimentRow).where(ExperimentRow.number == 0))
    if row is None:
        project = _mlflow_project(ctx)
        row = tracking.ensure_experiment_row(ctx, project.id, DEFAULT_EXPERIMENT, number=0)
        if row.number != 0:  # a Default experiment made before through Loopwise's own API
            row.number = 0
            ctx.session.flush()
    accounts.require_role(ctx, row.project_id, Role.VIEWER, what="experiment 0")
    return _info(ctx, row)


def by_name(ctx: Context, mlflow_name: str) -> ExperimentInfo:
    key, name = _lookup_name(ctx, mlflow_name)
    project = projects.resolve_project(ctx, key)
    row = ctx.session.scalar(
        select(ExperimentRow).where(
            ExperimentRow.project_id == project.id, ExperimentRow.name == name
        )
    )
    if row is None:
        raise NotFound(f"Could not find experiment with name '{mlflow_name}'")
    return _info(ctx, row)


def _lookup_name(ctx: Context, mlflow_name: str) -> tuple[str, str]:
    """Like split_name, but never creates the MLFLOW project (a lookup must not write)."""
    head, sep, rest = mlflow_name.strip().partition("/")
    if sep and rest.strip() and _project_exists(ctx, head):
        return head.upper(), rest.strip()
    if not sep and _project_exists(ctx, mlflow_name) and mlflow_name.upper() != MLFLOW_PROJECT:
        return mlflow_name.upper(), DEFAULT_EXPERIMENT
    if not _project_exists(ctx, MLFLOW_PROJECT):
        raise NotFound(f"Could not find experiment with name '{mlflow_name}'")
    return MLFLOW_PROJECT, mlflow_name.strip()


def create(
    ctx: Context,
    mlflow_name: str,
    tags: dict[str, str] | None = None,
    artifact_location: str | None = None,
) -> ExperimentInfo:
    key, name = split_name(ctx, mlflow_name)
    project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
    exists = ctx.session.scalar(
        select(ExperimentRow.id).where(
            ExperimentRow.project_id == project.id, ExperimentRow.name == name
        )
    )
    if exists:
        raise AlreadyExists(f"Experiment '{mlflow_name}' already exists.")
    experiment = tracking.get_or_create_experiment(ctx, key, name)
    row = ctx.session.get(ExperimentRow, experiment.id)
    assert row is not None
    if tags:
        row.tags = dict(tags)
    if artifact_location:
        if artifact_location.startswith("runs:"):
            raise InvalidInput(
                f"Artifact location cannot be a runs:/ URI. Given: '{artifact_location}'"
            )
        row.artifact_location = artifact_location
    ctx.session.flush()
    return _info(ctx, row)


def ensure_in(
    ctx: Context, project_key: str, name: str, tags: dict[str, str] | None = None
) -> ExperimentInfo:
    """The experiment ``name`` of project ``project_key``, made when missing (with
    ``tags``); the MLFLOW project is made on first use. For imports, which route
    experiments themselves instead of by the MLflow name rule."""
    if project_key.upper() == MLFLOW_PROJECT:
        _mlflow_project(ctx)
    experiment = tracking.get_or_create_experiment(ctx, project_key, name)
    row = ctx.session.get(ExperimentRow, experiment.id)
    assert row is not None
    if tags and not row.tags:
        row.tags = dict(tags)
        ctx.session.flush()
    return _info(ctx, row)


def _row(ctx: Context, number: int, needed: Role) -> ExperimentRow:
    info = by_number(ctx, number, needed)
    row = ctx.session.get(ExperimentRow, info.id)
    assert row is not None
    return row


def set_tag(ctx: Context, number: int, key: str, value: str) -> None:
    row = _row(ctx, number, Role.CONTRIBUTOR)
    row.tags = {**(row.tags or {}), key: value}
    ctx.session.flush()


def delete_tag(ctx: Context, number: int, key: str) -> None:
    """Remove an experiment tag; a tag that is not there is an error (MLflow's rule)."""
    row = _row(ctx, number, Role.CONTRIBUTOR)
    if row.lifecycle_stage != "active":
        raise InvalidInput(
            f"The experiment {number} must be in the 'active' state. "
            f"Current state is {row.lifecycle_stage}."
        )
    tags = dict(row.tags or {})
    if tags.pop(key, None) is None:
        raise NotFound(f"No tag with name: {key} in experiment with id {number}")
    row.tags = tags
    ctx.session.flush()


def exists(ctx: Context, number: int) -> bool:
    """Whether experiment ``number`` exists (no access check: a yes/no for the door)."""
    return (
        ctx.session.scalar(select(ExperimentRow.id).where(ExperimentRow.number == number))
        is not None
    )


def set_lifecycle(ctx: Context, number: int, stage: str) -> None:
    row = _row(ctx, number, Role.MAINTAINER)
    if number == 0 and stage == "deleted":
        raise InvalidInput("Cannot delete the default experiment '0'")
    row.lifecycle_stage = stage
    ctx.session.flush()


def rename(ctx: Context, number: int, new_name: str) -> None:
    row = _row(ctx, number, Role.MAINTAINER)
    key, name = split_name(ctx, new_name)
    project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    if project.id != row.project_id:
        raise InvalidInput("renaming cannot move an experiment to another project")
    if name == row.name:
        return
    taken = select(ExperimentRow.id).where(
        ExperimentRow.project_id == row.project_id, ExperimentRow.name == name
    )
    if ctx.session.scalar(taken) is not None:
        raise AlreadyExists(f"Experiment '{new_name}' already exists.")
    row.name = name
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # a concurrent rename or create took the name first
        raise AlreadyExists(f"Experiment '{new_name}' already exists.") from exc


def search(
    ctx: Context, *, view: str = "active", name_like: str | None = None
) -> list[ExperimentInfo]:
    query = select(ExperimentRow).order_by(ExperimentRow.number)
    visible = accounts.visible_project_ids(ctx)
    if visible is not None:
        query = query.where(ExperimentRow.project_id.in_(visible))
    if view != "all":
        query = query.where(ExperimentRow.lifecycle_stage == view)
    out = [_info(ctx, r) for r in ctx.session.scalars(query) if r.number is not None]
    if name_like:
        pattern = name_like.replace("%", "*").replace("_", "?")
        out = [e for e in out if fnmatch.fnmatchcase(e.mlflow_name, pattern)]
    return out


def set_run_lifecycle(ctx: Context, run_id: str, stage: str) -> None:
    tracking.run_project_id(ctx, run_id, Role.CONTRIBUTOR)
    row = ctx.session.get(RunRow, run_id)
    assert row is not None
    row.lifecycle_stage = stage
    ctx.session.flush()


def rename_run(ctx: Context, run_id: str, name: str) -> None:
    tracking.run_project_id(ctx, run_id, Role.CONTRIBUTOR)
    row = ctx.session.get(RunRow, run_id)
    assert row is not None
    if not name.strip() or len(name) > 200:
        raise InvalidInput("run name must have 1 to 200 characters")
    row.name = name.strip()
    ctx.session.flush()


def numbers(ctx: Context, experiment_ids: set[str]) -> dict[str, int]:
    """MLflow numbers of these experiments (for run payloads)."""
    rows = ctx.session.execute(
        select(ExperimentRow.id, ExperimentRow.number).where(ExperimentRow.id.in_(experiment_ids))
    ).all()
    return {r.id: int(r.number or 0) for r in rows}
