"""Datasets: immutable versions, profiles cross-checked against pandas, expectations and
quality, DVC references, leakage, readiness, lineage. The data service called directly
with the schemas the API validates; the upload door is in test_data_api.py."""

from __future__ import annotations

import hashlib
import itertools
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.datasets import load_breast_cancer

from loopwise.core.errors import InvalidInput, NotFound
from loopwise.data import service as data
from loopwise.data.models import DataFormat, DatasetRole, Registered
from loopwise.data.schemas import DatasetCreate, DvcIn, LeakageIn, MetaIn, RunDatasetIn
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import lineage
from loopwise.registry import service as registry
from loopwise.registry.models import Stage
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import MetricIn, RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store

_spools = itertools.count()


@pytest.fixture
def frame() -> pd.DataFrame:
    df = load_breast_cancer(as_frame=True).frame
    df.columns = [c.replace(" ", "_") for c in df.columns]
    df.insert(0, "patient_id", [f"P{i:04d}" for i in range(len(df))])
    return df


@pytest.fixture
def project(do: UseCases) -> str:
    charter = {"data_sources": [{"name": "cancer", "owner": "ada", "permission": "granted"}]}
    body = ProjectCreate.model_validate({"key": "DATA", "name": "Data project", "charter": charter})
    do(projects.create_project, body)
    return "DATA"


def register(
    do: UseCases,
    tmp_path: Path,
    name: str,
    source: pd.DataFrame | Path,
    meta: dict[str, Any] | None = None,
) -> Registered:
    """What the upload endpoint does with a file (the SDK sends a DataFrame as Parquet):
    the meta through its schema, the body spooled to a file the store takes over."""
    details = MetaIn.model_validate(meta or {}).to_meta()
    if isinstance(source, Path):
        fmt = DataFormat(source.suffix.lstrip("."))
        spool = tmp_path / f"spool-{next(_spools)}.{fmt.value}"
        shutil.copy(source, spool)
    else:
        fmt = DataFormat.PARQUET
        spool = tmp_path / f"spool-{next(_spools)}.parquet"
        source.to_parquet(spool, index=False)
    return do(data.register_path, "DATA", name, spool, meta=details, fmt=fmt, keep=True)


def test_register_csv_profiles_and_is_immutable(
    do: UseCases, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame.loc[[3, 7], "mean_radius"] = np.nan
    path = tmp_path / "cancer.csv"
    frame.to_csv(path, index=False)
    first = register(do, tmp_path, "cancer", path, meta={"owner": "ada", "licence": "CC-BY"})
    assert first.created
    v = first.version
    assert (v.meta.owner, v.meta.licence) == ("ada", "CC-BY")
    assert v.rows == len(frame) and v.columns == frame.shape[1]
    assert v.content_hash == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    radius = next(c for c in v.profile if c.name == "mean_radius")
    ref = pd.read_csv(path)["mean_radius"]
    assert radius.missing == int(ref.isna().sum())
    assert radius.missing_share == pytest.approx(ref.isna().mean())
    assert radius.mean == pytest.approx(ref.mean())
    assert radius.std == pytest.approx(ref.std())
    assert radius.minimum == pytest.approx(ref.min()) and radius.maximum == pytest.approx(ref.max())
    assert radius.distinct == ref.nunique()
    for name, q in (("p25", 0.25), ("p50", 0.5), ("p95", 0.95)):
        assert radius.quantiles[name] == pytest.approx(ref.quantile(q))
    target = next(c for c in v.profile if c.name == "target")
    counts = pd.read_csv(path)["target"].value_counts()
    assert dict(target.top or ()) == {} or target.kind == "integer"
    assert target.distinct == len(counts)
    again = register(do, tmp_path, "cancer", path)
    assert not again.created and again.version.id == v.id and again.version.version == 1
    assert do.read(data.get_version, v.id) == v
    assert [x.id for x in do.read(data.list_versions, project, "cancer")] == [v.id]


def test_dataframe_versions_and_new_content(
    do: UseCases, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    a = register(do, tmp_path, "cancer", frame)
    b = register(do, tmp_path, "cancer", frame)
    assert a.created and not b.created and a.version.id == b.version.id
    c = register(do, tmp_path, "cancer", frame.head(100))
    assert c.created and c.version.version == 2 and c.version.rows == 100
    cats = next(col for col in a.version.profile if col.name == "patient_id")
    assert cats.kind == "string" and cats.distinct == len(frame)


def test_expectations_and_quality_dimensions(
    do: UseCases, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    bad = frame.copy()
    bad.loc[0:4, "mean_radius"] = 100.0  # 5 out of range
    bad = pd.concat([bad, bad.head(3)])  # 3 duplicate rows (and duplicate ids)
    body = DatasetCreate.model_validate(
        {
            "name": "cancer",
            "expectations": [
                {"column": "mean_radius", "min": 5, "max": 40},
                {"column": "target", "allowed": [0, 1]},
                {"column": "patient_id", "unique": True},
                {"rule": "worst_radius >= mean_radius"},
            ],
        }
    )
    do(data.create_dataset, project, body.name, expectations=body.expectations)
    v = register(do, tmp_path, "cancer", bad).version
    results = {str(e.expectation): e for e in v.expectations}
    rng = results[str({"column": "mean_radius", "min": 5, "max": 40})]
    out_of_range = int(((bad["mean_radius"] < 5) | (bad["mean_radius"] > 40)).sum())
    assert not rng.passed and rng.failed == out_of_range == 8
    assert results[str({"column": "target", "allowed": [0, 1]})].passed
    uniq = results[str({"column": "patient_id", "unique": True})]
    assert not uniq.passed and uniq.failed == int(bad["patient_id"].duplicated().sum()) == 3
    rule = results[str({"rule": "worst_radius >= mean_radius"})]
    assert rule.failed == int((bad["worst_radius"] < bad["mean_radius"]).sum())
    assert v.duplicate_rows == 3
    assert v.dimensions["uniqueness"] == pytest.approx(1 - 3 / len(bad))
    assert v.dimensions["completeness"] == 1.0
    measured = [d for d in v.dimensions.values() if d is not None]
    assert v.quality_index == pytest.approx(100 * sum(measured) / len(measured))
    with pytest.raises(InvalidInput):
        do(data.create_dataset, project, "other", expectations=[{"rule": "a <== b"}])
    assert [d.name for d in do.read(data.list_datasets, project)] == ["cancer"]


def test_dvc_reference_is_registered_without_copying(do: UseCases, project: str) -> None:
    dvc = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1234\n  path: data/train.csv\n"
    body = DvcIn.model_validate({"dvc": dvc, "meta": {"owner": "ada"}})
    reg = do(data.register_dvc, project, "raw", body.dvc, meta=body.meta.to_meta())
    assert reg.created is True
    v = reg.version
    assert v.content_hash == "md5:0123456789abcdef0123456789abcdef"
    assert v.location == "data/train.csv" and v.profiled is False and v.format == "dvc"
    assert v.meta.owner == "ada" and v.size_bytes == 1234
    again = do(data.register_dvc, project, "raw", DvcIn(dvc=dvc).dvc)
    assert again.created is False and again.version.id == v.id
    with pytest.raises(InvalidInput):
        do(data.register_dvc, project, "raw", DvcIn(dvc="x: 1").dvc)


def test_leakage_flags_shared_rows_ids_and_a_perfect_feature(
    do: UseCases, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    leaky = frame.copy()
    leaky["diagnosis_code"] = leaky["target"] * 7 + 1  # a copy of the label
    train = register(do, tmp_path, "train", leaky.iloc[:400]).version
    test = register(do, tmp_path, "eval", leaky.iloc[380:]).version  # 20 shared rows
    body = LeakageIn(
        train_version_id=train.id,
        eval_version_id=test.id,
        label="target",
        id_columns=["patient_id"],
    )
    check = do(
        data.check_leakage,
        body.train_version_id,
        body.eval_version_id,
        label=body.label,
        id_columns=body.id_columns,
    )
    report = check.report
    assert report.shared_rows == 20
    assert dict(report.id_overlaps) == {"patient_id": 20}
    assert [f.feature for f in report.predictive_features] == ["diagnosis_code"]
    assert any("diagnosis_code" in flag for flag in report.flags)
    assert do.read(data.leakage_checks, test.id) == [check]
    ready = do.read(data.readiness, test.id)
    assert not ready.ready and any("leakage" in i for i in ready.issues)


def test_readiness_lists_what_is_missing(
    do: UseCases, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    ok = register(do, tmp_path, "cancer", frame, meta={"owner": "ada", "licence": "internal"})
    report = do.read(data.readiness, ok.version.id)
    assert report.permission == "granted" and report.issues == ()
    meta = {"personal_data": {"patient_id": ["direct_identifier"]}}
    other = register(do, tmp_path, "unlisted", frame, meta=meta).version
    issues = do.read(data.readiness, other.id).issues
    assert any("no owner" in i for i in issues)
    assert any("legal basis" in i for i in issues)
    assert any("no data source named" in i for i in issues)
    with pytest.raises(InvalidInput):  # no such column
        register(do, tmp_path, "x", frame, meta={"personal_data": {"nope": ["sensitive"]}})
    with pytest.raises(ValidationError):  # no such category
        register(do, tmp_path, "x", frame, meta={"personal_data": {"patient_id": ["secret"]}})
    assert [d.name for d in do.read(data.list_datasets, project)] == ["cancer", "unlisted"]


def test_lineage_walks_both_ways(
    do: UseCases, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    train = register(do, tmp_path, "cancer", frame).version
    run = do(tracking.create_run, project, RunCreate())
    use = RunDatasetIn.model_validate({"version_id": train.id, "role": "train"})
    used = do(data.use_in_run, run.id, use.version_id, use.role)
    assert (used.dataset, used.version, used.role) == ("cancer", 1, DatasetRole.TRAIN)
    assert do.read(data.datasets_of_run, run.id) == [used]
    do(tracking.log_metrics, run.id, [MetricIn(key="auc", value=0.97)])
    do(tracking.finish_run, run.id, RunFinish())
    do(registry.create_model, project, "screening", "")
    mv = do(registry.create_version, "screening", run_id=run.id, source="", description="")
    do(registry.transition, "screening", mv.version, Stage.STAGING)
    do(registry.transition, "screening", mv.version, Stage.PRODUCTION)
    forward = do.read(lineage.from_dataset_version, train.id)
    kinds = {n.kind for n in forward.nodes}
    assert kinds == {"dataset_version", "run", "model_version", "deployment"}
    deployment = next(n for n in forward.nodes if n.kind == "deployment" and n.detail == "active")
    back = do.read(lineage.from_deployment, deployment.id)
    assert any(n.id == train.id for n in back.nodes)
    assert any(e.source == train.id and e.target == run.id for e in back.edges)
    with pytest.raises(NotFound):
        do.read(lineage.from_deployment, "dep_missing")
