"""Datasets through the SDK and API: immutable versions, profiles cross-checked against
pandas, expectations and quality, DVC references, leakage, readiness, lineage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from starlette.testclient import TestClient

from loopwise import Client
from loopwise.core.errors import InvalidInput, NotFound
from loopwise.data.models import VersionMeta


@pytest.fixture
def frame() -> pd.DataFrame:
    df = load_breast_cancer(as_frame=True).frame
    df.columns = [c.replace(" ", "_") for c in df.columns]
    df.insert(0, "patient_id", [f"P{i:04d}" for i in range(len(df))])
    return df


@pytest.fixture
def project(client: Client) -> str:
    client.create_project(
        "DATA",
        "Data project",
        charter={"data_sources": [{"name": "cancer", "owner": "ada", "permission": "granted"}]},
    )
    return "DATA"


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


def test_register_csv_profiles_and_is_immutable(
    client: Client, project: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame.loc[[3, 7], "mean_radius"] = np.nan
    path = write_csv(frame, tmp_path / "cancer.csv")
    first = client.register_dataset(
        project, "cancer", path, meta={"owner": "ada", "licence": "CC-BY"}
    )
    assert first.created
    v = first.version
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
    again = client.register_dataset(project, "cancer", path)
    assert not again.created and again.version.id == v.id and again.version.version == 1


def test_dataframe_versions_and_new_content(
    client: Client, project: str, frame: pd.DataFrame
) -> None:
    a = client.register_dataset(project, "cancer", frame)
    b = client.register_dataset(project, "cancer", frame)
    assert a.created and not b.created and a.version.id == b.version.id
    c = client.register_dataset(project, "cancer", frame.head(100))
    assert c.created and c.version.version == 2 and c.version.rows == 100
    cats = next(col for col in a.version.profile if col.name == "patient_id")
    assert cats.kind == "string" and cats.distinct == len(frame)


def test_expectations_and_quality_dimensions(
    client: Client, project: str, frame: pd.DataFrame
) -> None:
    bad = frame.copy()
    bad.loc[0:4, "mean_radius"] = 100.0  # 5 out of range
    bad = pd.concat([bad, bad.head(3)])  # 3 duplicate rows (and duplicate ids)
    client.create_dataset(
        project,
        "cancer",
        expectations=[
            {"column": "mean_radius", "min": 5, "max": 40},
            {"column": "target", "allowed": [0, 1]},
            {"column": "patient_id", "unique": True},
            {"rule": "worst_radius >= mean_radius"},
        ],
    )
    v = client.register_dataset(project, "cancer", bad).version
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
        client.create_dataset(project, "other", expectations=[{"rule": "a <== b"}])


def test_dvc_reference_is_registered_without_copying(client: Client, project: str) -> None:
    dvc = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1234\n  path: data/train.csv\n"
    reg = client._request(  # raw API: the DVC text is what a remote client sends
        "POST",
        f"/api/v1/projects/{project}/datasets/raw/versions/dvc",
        json={"dvc": dvc, "meta": {"owner": "ada"}},
    )
    assert reg["created"] is True
    v = reg["version"]
    assert v["content_hash"] == "md5:0123456789abcdef0123456789abcdef"
    assert v["location"] == "data/train.csv" and v["profiled"] is False and v["format"] == "dvc"
    again = client._request(
        "POST", f"/api/v1/projects/{project}/datasets/raw/versions/dvc", json={"dvc": dvc}
    )
    assert again["created"] is False
    with pytest.raises(InvalidInput):
        client._request(
            "POST", f"/api/v1/projects/{project}/datasets/raw/versions/dvc", json={"dvc": "x: 1"}
        )


def test_leakage_flags_shared_rows_ids_and_a_perfect_feature(
    client: Client, project: str, frame: pd.DataFrame
) -> None:
    leaky = frame.copy()
    leaky["diagnosis_code"] = leaky["target"] * 7 + 1  # a copy of the label
    train = client.register_dataset(project, "train", leaky.iloc[:400]).version
    test = client.register_dataset(project, "eval", leaky.iloc[380:]).version  # 20 shared rows
    check = client.check_leakage(train.id, test.id, label="target", id_columns=["patient_id"])
    report = check.report
    assert report.shared_rows == 20
    assert dict(report.id_overlaps) == {"patient_id": 20}
    assert [f.feature for f in report.predictive_features] == ["diagnosis_code"]
    assert any("diagnosis_code" in flag for flag in report.flags)
    ready = client.readiness(test.id)
    assert not ready.ready and any("leakage" in i for i in ready.issues)


def test_readiness_lists_what_is_missing(client: Client, project: str, frame: pd.DataFrame) -> None:
    meta = VersionMeta(owner="ada", licence="internal")
    ok = client.register_dataset(project, "cancer", frame, meta=meta).version
    report = client.readiness(ok.id)
    assert report.permission == "granted" and report.issues == ()
    other = client.register_dataset(
        project, "unlisted", frame, meta={"personal_data": {"patient_id": ["direct_identifier"]}}
    ).version
    issues = client.readiness(other.id).issues
    assert any("no owner" in i for i in issues)
    assert any("legal basis" in i for i in issues)
    assert any("no data source named" in i for i in issues)
    with pytest.raises(InvalidInput):
        client.register_dataset(
            project, "x", frame, meta={"personal_data": {"nope": ["sensitive"]}}
        )


def test_bad_uploads_are_4xx(api: TestClient, project: str, tmp_path: Path) -> None:
    def upload(name: str, content: bytes, meta: str = "{}") -> int:
        r = api.post(
            f"/api/v1/projects/{project}/datasets/x/versions",
            files={"file": (name, content)},
            data={"meta": meta},
        )
        return r.status_code

    assert upload("a.txt", b"hello") == 400
    assert upload("a.parquet", b"not parquet") == 400
    assert upload("a.csv", b"a,b\n1,2\n", meta="{oops") == 400
    assert upload("a.csv", b"a,b\n1,2\n", meta='{"owner": 3}') == 400
    assert api.get(f"/api/v1/projects/{project}/datasets").json() == []  # nothing half-made


def test_lineage_walks_both_ways(client: Client, project: str, frame: pd.DataFrame) -> None:
    train = client.register_dataset(project, "cancer", frame).version
    with client.start_run(project) as run:
        run.use_dataset(train, "train")
        run.log_metric("auc", 0.97)
    client.create_model(project, "screening")
    mv = client.create_model_version("screening", run_id=run.id)
    client.move_model_version("screening", mv.version, "staging")
    client.move_model_version("screening", mv.version, "production")
    forward = client.lineage_of_dataset(train.id)
    kinds = {n.kind for n in forward.nodes}
    assert kinds == {"dataset_version", "run", "model_version", "deployment"}
    deployment = next(n for n in forward.nodes if n.kind == "deployment" and n.detail == "active")
    back = client.lineage_of_deployment(deployment.id)
    assert any(n.id == train.id for n in back.nodes)
    assert any(e.source == train.id and e.target == run.id for e in back.edges)
    with pytest.raises(NotFound):
        client.lineage_of_deployment("dep_missing")
