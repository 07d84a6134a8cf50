"""Editing the registry's catalogue: tags on models and versions, descriptions, renaming
and deleting (the second half of ``registry.service``, which holds reading, creating and
stages).

Rules:
- deleting a tag that is not there changes nothing (as MLflow's server: the model or
  version must exist);
- tags follow the run tag rules (``tracking.validation``: key 1-250 characters of
  letters, digits, ``_ - . / :`` and spaces; value at most 8,000 characters);
- a contributor edits tags and descriptions; renaming and deleting need a maintainer;
- a version that serves traffic (canary or production) cannot be deleted, nor a model
  that has one: move it to archived first, so nothing in service loses its record;
- every rename and delete is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput
from loopwise.registry import service
from loopwise.registry.models import ModelVersion, RegisteredModel, Stage
from loopwise.registry.tables import ModelTagRow, ModelVersionRow, RegisteredModelRow, VersionTagRow
from loopwise.tracking import validation

SERVING = (Stage.CANARY.value, Stage.PRODUCTION.value)


def _tag(key: str, value: object) -> tuple[str, str]:
    return validation.key(key, "key"), validation.value(validation.TAG, value, "value")


# --- tags ------------------------------------------------------------------------------


def model_tags(ctx: Context, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Tags of these models by model name (the caller may see them)."""
    if not names:
        return {}
    rows = ctx.session.execute(
        select(RegisteredModelRow.name, ModelTagRow.key, ModelTagRow.value)
        .join(ModelTagRow, ModelTagRow.model_id == RegisteredModelRow.id)
        .where(RegisteredModelRow.name.in_(names))
        .order_by(ModelTagRow.key)
    ).all()
    out: dict[str, dict[str, str]] = {name: {} for name in names}
    for name, key, value in rows:
        out[name][key] = value
    return out


def version_tags(ctx: Context, version_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """Tags of these versions by version id (the caller may see them)."""
    if not version_ids:
        return {}
    rows = ctx.session.execute(
        select(VersionTagRow.version_id, VersionTagRow.key, VersionTagRow.value)
        .where(VersionTagRow.version_id.in_(version_ids))
        .order_by(VersionTagRow.key)
    ).all()
    out: dict[str, dict[str, str]] = {vid: {} for vid in version_ids}
    for vid, key, value in rows:
        out[vid][key] = value
    return out


def set_model_tag(ctx: Context, name: str, key: str, value: object) -> None:
    model = service._model_row(ctx, name, Role.CONTRIBUTOR)
    key, text = _tag(key, value)
    row = ctx.session.get(ModelTagRow, (model.id, key))
    if row is None:
        ctx.session.add(ModelTagRow(model_id=model.id, key=key, value=text))
    else:
        row.value = text
    model.updated_at = ctx.clock.now()
    ctx.session.flush()


def delete_model_tag(ctx: Context, name: str, key: str) -> None:
    model = service._model_row(ctx, name, Role.CONTRIBUTOR)
    row = ctx.session.get(ModelTagRow, (model.id, key))
    if row is not None:
        ctx.session.delete(row)
        model.updated_at = ctx.clock.now()
        ctx.session.flush()


def set_version_tag(ctx: Context, name: str, version: int, key: str, value: object) -> None:
    _, row = service._version_row(ctx, name, version, Role.CONTRIBUTOR)
    key, text = _tag(key, value)
    tag = ctx.session.get(VersionTagRow, (row.id, key))
    if tag is None:
        ctx.session.add(VersionTagRow(version_id=row.id, key=key, value=text))
    else:
        tag.value = text
    row.updated_at = ctx.clock.now()
    ctx.session.flush()


def delete_version_tag(ctx: Context, name: str, version: int, key: str) -> None:
    _, row = service._version_row(ctx, name, version, Role.CONTRIBUTOR)
    tag = ctx.session.get(VersionTagRow, (row.id, key))
    if tag is not None:
        ctx.session.delete(tag)
        row.updated_at = ctx.clock.now()
        ctx.session.flush()


# --- descriptions, renaming, deleting --------------------------------------------------


def update_model(ctx: Context, name: str, description: str) -> RegisteredModel:
    model = service._model_row(ctx, name, Role.CONTRIBUTOR)
    model.description, model.updated_at = description, ctx.clock.now()
    ctx.session.flush()
    return service._model(ctx, model)


def update_version(ctx: Context, name: str, version: int, description: str) -> ModelVersion:
    model, row = service._version_row(ctx, name, version, Role.CONTRIBUTOR)
    row.description, row.updated_at = description, ctx.clock.now()
    ctx.session.flush()
    return service._version(row, model.name, service._aliases(ctx, model.id))


def rename_model(ctx: Context, name: str, new_name: str) -> RegisteredModel:
    model = service._model_row(ctx, name, Role.MAINTAINER)
    if not service._NAME.match(new_name):
        raise InvalidInput(
            f"invalid model name {new_name!r}: 1-200 letters, digits, spaces, '.', '_' or '-'"
        )
    if new_name != name and ctx.session.scalar(
        select(RegisteredModelRow.id).where(RegisteredModelRow.name == new_name)
    ):
        raise AlreadyExists(f"Registered Model (name={new_name}) already exists.")
    model.name, model.updated_at = new_name, ctx.clock.now()
    ctx.session.flush()
    audit.record(ctx, "model.rename", f"model:{model.id}", payload={"from": name, "to": new_name})
    return service._model(ctx, model)


def delete_version(ctx: Context, name: str, version: int) -> None:
    model, row = service._version_row(ctx, name, version, Role.MAINTAINER)
    if row.stage in SERVING:
        raise Conflict(
            f"{name} v{version} is in {row.stage} and serves traffic: "
            "move it to archived before deleting it"
        )
    audit.record(ctx, "model_version.delete", f"model_version:{row.id}", payload={"v": version})
    ctx.session.delete(row)
    model.updated_at = ctx.clock.now()
    ctx.session.flush()


def delete_model(ctx: Context, name: str) -> None:
    model = service._model_row(ctx, name, Role.MAINTAINER)
    serving = ctx.session.scalar(
        select(ModelVersionRow.version).where(
            ModelVersionRow.model_id == model.id, ModelVersionRow.stage.in_(SERVING)
        )
    )
    if serving is not None:
        raise Conflict(
            f"{name} v{serving} serves traffic: move it to archived before deleting the model"
        )
    audit.record(ctx, "model.delete", f"model:{model.id}", payload={"name": name})
    ctx.session.delete(model)
    ctx.session.flush()
