"""Monitors: columns and kinds from the reference schema, overrides, default checks,
the reference read once (its profile and its realised performance)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from monitoring_support import KEY, frame

from loopwise.core.errors import AlreadyExists, InvalidInput
from loopwise.data import service as data
from loopwise.monitoring import service
from loopwise.monitoring.models import CheckKind, Metric, Monitor, Severity
from loopwise.monitoring.schemas import CheckIn, ColumnOverride, MonitorCreate, MonitorUpdate
from loopwise.numeric.drift import ColumnKind, DriftTest
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import service as registry


def test_columns_come_from_the_reference_schema(monitor: Monitor) -> None:
    kinds = {c.name: (c.kind, c.dtype) for c in monitor.columns}
    assert kinds == {
        "x1": (ColumnKind.NUMERIC, "float"),
        "x2": (ColumnKind.NUMERIC, "float"),
        "plan": (ColumnKind.CATEGORICAL, "string"),
    }
    # prediction and score are watched for prediction drift; label is not a feature
    assert {c.name for c in monitor.predictions} == {"prediction", "score"}
    assert monitor.reference_rows == 2000
    assert set(monitor.reference_performance) >= {"accuracy", "roc_auc", "f1"}
    checks = {c.kind: c for c in monitor.checks}
    assert set(checks) == set(CheckKind) - {CheckKind.MULTIVARIATE_DRIFT}  # only when named
    assert checks[CheckKind.DATA_DRIFT].threshold == 0.5
    assert checks[CheckKind.PERFORMANCE].metric is Metric.ROC_AUC
    assert checks[CheckKind.PERFORMANCE].baseline == monitor.reference_performance["roc_auc"]
    assert checks[CheckKind.PERFORMANCE].severity is Severity.CRITICAL


def test_overrides_and_checks_are_validated(write, reference_id: str) -> None:  # noqa: ANN001
    def create(**fields: object) -> Monitor:
        with write() as ctx:
            body = MonitorCreate.model_validate(
                {"name": "m", "reference_version_id": reference_id} | fields
            )
            return service.create_monitor(ctx, KEY, body)

    with pytest.raises(InvalidInput, match="needs a numeric column"):
        create(overrides=[{"column": "plan", "test": "ks"}])
    with pytest.raises(InvalidInput, match="p-value threshold"):
        create(overrides=[{"column": "x1", "test": "ks", "threshold": 3}])
    with pytest.raises(InvalidInput, match="not monitored"):
        create(features=["x1"], overrides=[{"column": "x2", "test": "psi"}])
    with pytest.raises(InvalidInput, match="no column 'nope'"):
        create(features=["nope"])
    made = create(
        features=["x1", "plan"],
        overrides=[{"column": "x1", "test": "psi", "threshold": 0.2}],
        checks=[{"kind": "data_drift", "threshold": 0.3}, {"kind": "latency", "threshold": 50}],
    )
    assert [c.name for c in made.columns] == ["x1", "plan"]
    assert made.columns[0].test is DriftTest.PSI and made.columns[0].threshold == 0.2
    assert [(c.kind, c.threshold) for c in made.checks] == [
        (CheckKind.DATA_DRIFT, 0.3),
        (CheckKind.LATENCY, 50),
    ]
    with pytest.raises(AlreadyExists):
        create()
    with write() as ctx:
        changed = service.update_monitor(
            ctx,
            KEY,
            "m",
            MonitorUpdate(
                overrides=[ColumnOverride(column="plan", test=DriftTest.JS)],
                checks=[CheckIn(kind=CheckKind.PERFORMANCE, metric=Metric.F1, baseline=0.8)],
                active=False,
            ),
        )
    assert changed.columns[0].test is None and changed.columns[1].test is DriftTest.JS
    assert changed.checks[0].baseline == 0.8 and not changed.active


def test_model_version_and_reference_must_belong_to_the_project(
    write,
    reference_id: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    with write() as ctx:
        registry.create_model(ctx, KEY, "churn-model")
        v = registry.create_version(ctx, "churn-model")
        made = service.create_monitor(
            ctx,
            KEY,
            MonitorCreate(
                name="m", reference_version_id=reference_id, model="churn-model", model_version=1
            ),
        )
        assert (made.model, made.model_version, made.model_version_id) == ("churn-model", 1, v.id)
        with pytest.raises(InvalidInput, match="no version in production"):
            service.create_monitor(
                ctx,
                KEY,
                MonitorCreate(name="m2", reference_version_id=reference_id, model="churn-model"),
            )
        projects.create_project(ctx, ProjectCreate(key="OTHER", name="Other"))
        other = tmp_path / "other.parquet"
        frame(50, seed=3).to_parquet(other)
        other_id = data.register_path(ctx, "OTHER", "ref", other).version.id
    with pytest.raises(InvalidInput, match="belongs to project OTHER"), write() as ctx:
        service.create_monitor(ctx, KEY, MonitorCreate(name="m3", reference_version_id=other_id))


def test_a_reference_whose_file_is_gone_is_refused(write, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "gone.csv"
    pd.DataFrame({"a": [1.0, 2.0]}).to_csv(path, index=False)
    with write() as ctx:
        projects.create_project(ctx, ProjectCreate(key=KEY, name="M"))
        version = data.register_path(ctx, KEY, "gone", path).version.id
    path.unlink()
    with pytest.raises(InvalidInput, match="not readable here"), write() as ctx:
        service.create_monitor(ctx, KEY, MonitorCreate(name="m", reference_version_id=version))
