"""Editing the registry's catalogue (registry.catalog): tags on models and versions,
descriptions, renaming and deleting, with the rules its docstring states."""

from __future__ import annotations

import pytest

from loopwise.audit import service as audit
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopwise.registry import catalog
from loopwise.registry import service as registry
from loopwise.registry.models import Stage
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


def test_tags_on_models_and_versions(do: UseCases, model: str) -> None:
    version = do(registry.create_version, model, source="s3://m").version
    do(catalog.set_model_tag, model, "team", "risk")
    do(catalog.set_model_tag, model, "team", "ops")  # a tag changes
    do(catalog.set_model_tag, model, "tier", 1)  # numbers are kept as their text
    do(catalog.set_version_tag, model, version, "validated", "yes")
    assert do.read(catalog.model_tags, [model]) == {model: {"team": "ops", "tier": "1"}}
    vid = do.read(registry.get_version, model, version).id
    assert do.read(catalog.version_tags, [vid]) == {vid: {"validated": "yes"}}

    do(catalog.delete_model_tag, model, "tier")
    do(catalog.delete_version_tag, model, version, "validated")
    assert do.read(catalog.model_tags, [model]) == {model: {"team": "ops"}}
    assert do.read(catalog.version_tags, [vid]) == {vid: {}}
    do(catalog.delete_model_tag, model, "tier")  # already gone: nothing changes
    do(catalog.delete_version_tag, model, version, "validated")
    assert do.read(catalog.model_tags, [model]) == {model: {"team": "ops"}}
    with pytest.raises(NotFound):  # but the version must exist
        do(catalog.delete_version_tag, model, version + 1, "validated")
    with pytest.raises(InvalidInput):
        do(catalog.set_model_tag, model, "bad\nkey", "x")
    with pytest.raises(InvalidInput):
        do(catalog.set_version_tag, model, version, "k", "x" * 8001)


def test_descriptions_and_renaming(do: UseCases, model: str) -> None:
    do(registry.create_version, model, source="s3://m")
    assert do(catalog.update_model, model, "scores churn").description == "scores churn"
    assert do(catalog.update_version, model, 1, "first").description == "first"
    renamed = do(catalog.rename_model, model, "churn-v2")
    assert renamed.name == "churn-v2" and renamed.latest_version == 1
    assert do.read(registry.get_version, "churn-v2", 1).description == "first"
    with pytest.raises(NotFound):
        do.read(registry.get_model, model)
    do(registry.create_model, "REG", "other")
    with pytest.raises(AlreadyExists):
        do(catalog.rename_model, "churn-v2", "other")
    with pytest.raises(InvalidInput):
        do(catalog.rename_model, "churn-v2", "no/slashes")
    assert do.read(audit.log, action="model.rename")


def test_deleting_refuses_what_serves_traffic(do: UseCases, model: str) -> None:
    run = do(tracking.create_run, "REG", RunCreate(name="r"))
    do(tracking.finish_run, run.id, RunFinish())
    for _ in range(3):
        do(registry.create_version, model, run_id=run.id, source="s3://m")
    do(catalog.set_version_tag, model, 2, "k", "v")
    do(registry.transition, model, 1, Stage.STAGING)
    do(registry.transition, model, 1, Stage.PRODUCTION)

    with pytest.raises(Conflict, match="archived"):
        do(catalog.delete_version, model, 1)
    with pytest.raises(Conflict, match="archived"):
        do(catalog.delete_model, model)
    do(catalog.delete_version, model, 2)  # its tags go with it
    assert [v.version for v in do.read(registry.list_versions, model)] == [3, 1]
    with pytest.raises(NotFound):
        do(catalog.delete_version, model, 2)

    do(registry.transition, model, 1, Stage.ARCHIVED)
    do(catalog.delete_model, model)
    with pytest.raises(NotFound):
        do.read(registry.get_model, model)
    assert do.read(audit.log, action="model.delete")
    assert do.read(audit.log, action="model_version.delete")
