"""Model registry: versions, aliases, the stage machine, promotion checks, canary,
rollback, deployments, incidents and delivery metrics. The registry service called
directly with the schemas the API validates; the REST door is in test_registry_api.py."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from loopwise.core.clock import FrozenClock
from loopwise.core.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion, Stage
from loopwise.registry.schemas import (
    AliasSet,
    IncidentCreate,
    RollbackIn,
    StageChange,
    VersionCreate,
)
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, MetricsIn, RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


def finished_run(do: UseCases, auc: float = 0.9, *, finish: bool = True) -> str:
    run = do(tracking.create_run, "REG", RunCreate(name=f"auc-{auc}"))
    do(tracking.log_metrics, run.id, [MetricIn(key="auc", value=auc)])
    if finish:
        do(tracking.finish_run, run.id, RunFinish())
    return run.id


def new_version(do: UseCases, model: str, run_id: str) -> int:
    body = VersionCreate(run_id=run_id, source="model/")
    made = do(
        registry.create_version,
        model,
        run_id=body.run_id,
        source=body.source,
        description=body.description,
    )
    return made.version


def stage(do: UseCases, model: str, v: int, to: str, **extra: Any) -> ModelVersion:
    """A stage change as the API makes it: the schema, then the service."""
    body = StageChange.model_validate({"stage": to, **extra})
    return do(
        registry.transition,
        model,
        v,
        body.stage,
        traffic_share=body.traffic_share,
        reason=body.reason,
    )


def test_version_snapshots_run_metrics_and_aliases(do: UseCases, model: str) -> None:
    v = new_version(do, model, finished_run(do, 0.91))
    found = do.read(registry.get_version, model, v)
    assert found.metrics == {"auc": 0.91} and found.stage is Stage.NONE
    assert found.source == "model/"
    body = AliasSet(version=v)
    assert do(registry.set_alias, model, "champion", body.version).aliases == ("champion",)
    assert do.read(registry.version_by_alias, model, "champion").version == v
    assert do.read(registry.get_model, model).aliases == {"champion": v}
    with pytest.raises(InvalidInput, match="invalid alias '9bad'"):
        do(registry.set_alias, model, "9bad", v)
    do(registry.delete_alias, model, "champion")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        do.read(registry.version_by_alias, model, "champion")
    with pytest.raises(NotFound, match="no alias 'champion'"):
        do(registry.delete_alias, model, "champion")
    with pytest.raises(AlreadyExists):
        do(registry.create_model, "REG", model, "")


def test_non_finite_metrics_in_a_snapshot_read_back(do: UseCases, model: str) -> None:
    # Found by schemathesis: stored as "NaN"/"Infinity" strings, they broke every read.
    run = do(tracking.create_run, "REG", RunCreate()).id
    points = MetricsIn.model_validate(
        {
            "metrics": [
                {"key": "nan", "value": "NaN"},
                {"key": "inf", "value": "-Infinity"},
                {"key": "x", "value": 1},
            ]
        }
    )
    do(tracking.log_metrics, run, points.metrics)
    v = new_version(do, model, run)
    for found in (
        do.read(registry.get_version, model, v),
        do.read(registry.list_versions, model)[0],
    ):
        assert set(found.metrics) == {"nan", "inf", "x"}
        assert math.isnan(found.metrics["nan"])
        assert (found.metrics["inf"], found.metrics["x"]) == (-math.inf, 1.0)


def test_stage_machine_refuses_illegal_moves(do: UseCases, model: str) -> None:
    v = new_version(do, model, finished_run(do))
    with pytest.raises(Conflict, match="can go to"):
        stage(do, model, v, "production")
    with pytest.raises(InvalidInput, match="needs a traffic share"):
        stage(do, model, v, "canary")
    with pytest.raises(InvalidInput, match="only applies to canary"):
        stage(do, model, v, "staging", traffic_share=0.5)
    with pytest.raises(ValidationError):
        stage(do, model, v, "canary", traffic_share=1.5)
    assert do.read(registry.get_version, model, v).stage is Stage.NONE
    assert stage(do, model, v, "canary", traffic_share=0.1).traffic_share == 0.1
    w = new_version(do, model, finished_run(do))
    with pytest.raises(Conflict, match=f"v{v} is already the canary"):
        stage(do, model, w, "canary", traffic_share=0.5)


def test_promotion_is_refused_while_a_check_fails(do: UseCases, model: str) -> None:
    run = finished_run(do, finish=False)
    v = new_version(do, model, run)
    stage(do, model, v, "staging")
    with pytest.raises(Conflict, match="source run finished"):
        stage(do, model, v, "production")
    (check,) = do.read(registry.promotion_report, model, v)
    assert (check.name, check.passed) == ("source run finished", False)
    do(tracking.finish_run, run, RunFinish())
    (check,) = do.read(registry.promotion_report, model, v)
    assert check.passed
    assert stage(do, model, v, "production").stage is Stage.PRODUCTION
    # a version with no source run fails the check (issue 16: nothing shows how it was made)
    bare = do(registry.create_version, model, run_id=None, source="s3://m/", description="")
    stage(do, model, bare.version, "staging")
    with pytest.raises(Conflict, match="source run finished: no source run recorded"):
        stage(do, model, bare.version, "production")


def test_canary_then_production_then_rollback(do: UseCases, model: str, clock: FrozenClock) -> None:
    v1 = new_version(do, model, finished_run(do, 0.90))
    stage(do, model, v1, "staging")
    stage(do, model, v1, "production")
    v2 = new_version(do, model, finished_run(do, 0.93))
    for share in (0.01, 0.1, 0.5):
        assert stage(do, model, v2, "canary", traffic_share=share).traffic_share == share
    clock.advance(timedelta(hours=2))
    assert stage(do, model, v2, "production").stage is Stage.PRODUCTION
    assert do.read(registry.get_version, model, v1).stage is Stage.ARCHIVED
    active = do.read(registry.list_deployments, "REG", active_only=True)
    assert [(d.version, d.environment, d.traffic_share) for d in active] == [
        (v2, "production", 1.0)
    ]
    with pytest.raises(ValidationError):
        RollbackIn(reason=" ")
    with pytest.raises(InvalidInput, match="needs a reason"):
        do(registry.rollback, model, " ")
    back = do(registry.rollback, model, RollbackIn(reason="AUC fell in prod").reason)
    assert back.version == v1
    assert do.read(registry.get_model, model).production_version == v1
    outcomes = {
        (d.version, d.outcome)
        for d in do.read(registry.list_deployments, "REG")
        if d.traffic_share == 1.0
    }
    assert (v2, "rolled_back") in outcomes and (v1, "active") in outcomes
    history = do.read(registry.stage_history, model)
    assert history[-1].to_stage == "production" and "AUC fell" in history[-1].reason


def test_rollback_needs_an_earlier_version(do: UseCases, model: str) -> None:
    v = new_version(do, model, finished_run(do))
    stage(do, model, v, "staging")
    stage(do, model, v, "production")
    with pytest.raises(Conflict, match="nothing to roll back"):
        do(registry.rollback, model, "bad")


def test_delivery_metrics(do: UseCases, model: str, clock: FrozenClock) -> None:
    for _ in range(3):
        run = finished_run(do)
        clock.advance(timedelta(hours=10))  # run finished -> production: 10 hours
        v = new_version(do, model, run)
        stage(do, model, v, "staging")
        stage(do, model, v, "production")
        clock.advance(timedelta(days=2))
    do(registry.rollback, model, "regression")
    body = IncidentCreate(title="Latency spike", severity="sev2")
    incident = do(
        registry.open_incident,
        "REG",
        body.title,
        severity=body.severity,
        deployment_id=body.deployment_id,
        notes=body.notes,
    )
    assert [i.id for i in do.read(registry.list_incidents, "REG")] == [incident.id]
    clock.advance(timedelta(hours=3))
    assert do(registry.resolve_incident, incident.id).resolved_at == clock.now()
    with pytest.raises(Conflict, match="already resolved"):
        do(registry.resolve_incident, incident.id)
    metrics = do.read(registry.delivery_metrics, "REG", days=28)
    assert metrics.production_deployments == 3  # the rollback is not a release
    assert metrics.lead_time_hours_median == pytest.approx(10.0)
    assert metrics.change_failure_rate == pytest.approx(1 / 3)
    assert metrics.mean_time_to_recovery_hours == pytest.approx(3.0)
    assert sum(count for _, count in metrics.weekly_deployments) == 3
    with pytest.raises(ValidationError):
        IncidentCreate(title="x", severity="sev9")
    with pytest.raises(InvalidInput, match="severity"):
        do(registry.open_incident, "REG", "x", severity="sev9")


def test_unknown_model_and_version_are_not_found(do: UseCases, model: str) -> None:
    with pytest.raises(NotFound):
        do.read(registry.get_model, "nope")
    with pytest.raises(NotFound):
        do.read(registry.get_version, model, 7)
    with pytest.raises(NotFound):
        do(registry.create_version, model, run_id="run_missing")
    assert do.read(registry.list_versions, model) == []
