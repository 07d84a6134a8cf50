"""Stored evaluations and champion vs challenger, cross-checked against scikit-learn (the
registry's evaluations called directly with the schema the API validates)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from loopwise.core.errors import InvalidInput, NotFound
from loopwise.data import service as data
from loopwise.data.models import DataFormat, DatasetRole
from loopwise.projects import service as projects
from loopwise.projects.schemas import ProjectCreate
from loopwise.registry import evaluations
from loopwise.registry import service as registry
from loopwise.registry.schemas import EvaluationIn
from loopwise.tracking import service as tracking
from loopwise.tracking.schemas import RunCreate, RunFinish
from use_cases import UseCases

pytestmark = pytest.mark.store


@pytest.fixture
def project(do: UseCases) -> str:
    do(projects.create_project, ProjectCreate(key="EVAL", name="Evaluation"))
    return "EVAL"


def evaluate(do: UseCases, project: str, **body: Any) -> evaluations.EvaluationRecord:
    """An evaluation as the API records it: the schema, then the use case."""
    e = EvaluationIn.model_validate(body)
    return do(
        evaluations.record,
        project,
        e.task,
        e.y_true,
        e.y_pred,
        y_score=e.y_score,
        features=e.features,
        slices=e.slices,
        slice_column=e.slice_column,
        model=e.model,
        version=e.version,
        run_id=e.run_id,
        dataset_version_id=e.dataset_version_id,
        n_boot=e.n_boot,
        seed=e.seed,
    )


def test_champion_and_challenger_on_the_same_dataset_version(
    do: UseCases, project: str, tmp_path: Path
) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = tmp_path / "holdout.parquet"
    x.iloc[400:].assign(target=y.iloc[400:]).to_parquet(frame, index=False)
    spool = tmp_path / "spool.parquet"
    shutil.copy(frame, spool)
    holdout = do(
        data.register_path, project, "holdout", spool, fmt=DataFormat.PARQUET, keep=True
    ).version
    do(registry.create_model, project, "screen", "")
    preds = {}
    for alias, model in (
        ("champion", LogisticRegression(max_iter=5000)),
        ("challenger", RandomForestClassifier(n_estimators=50, random_state=0)),
    ):
        model.fit(x.iloc[:400], y.iloc[:400])
        run = do(tracking.create_run, project, RunCreate(name=alias))
        do(data.use_in_run, run.id, holdout.id, DatasetRole.EVAL)
        do(tracking.finish_run, run.id, RunFinish())
        mv = do(registry.create_version, "screen", run_id=run.id)
        do(registry.set_alias, "screen", alias, mv.version)
        p, s = model.predict(x.iloc[400:]), model.predict_proba(x.iloc[400:])[:, 1]
        preds[alias] = (p, s)
        record = evaluate(
            do,
            project,
            task="classification",
            y_true=y.iloc[400:].tolist(),
            y_pred=p.tolist(),
            y_score=s.tolist(),
            model="screen",
            version=mv.version,
            dataset_version_id=holdout.id,
            n_boot=200,
        )
        assert do.read(evaluations.get, record.id) == record
        est = {m.name: m for m in record.evaluation.metrics}
        assert est["recall"].value == pytest.approx(skm.recall_score(y.iloc[400:], p))
        assert est["roc_auc"].value == pytest.approx(skm.roc_auc_score(y.iloc[400:], s))
        assert est["recall"].low <= est["recall"].value <= est["recall"].high
    assert len(do.read(evaluations.list_for_project, project)) == 2
    comparison = do.read(evaluations.champion_vs_challenger, "screen")
    rows = {name: (a, b, d) for name, a, b, d in comparison.rows}
    champ_p, chall_p = preds["champion"][0], preds["challenger"][0]
    assert rows["accuracy"][0] == pytest.approx(skm.accuracy_score(y.iloc[400:], champ_p))
    assert rows["accuracy"][1] == pytest.approx(skm.accuracy_score(y.iloc[400:], chall_p))
    assert rows["accuracy"][2] == pytest.approx(rows["accuracy"][1] - rows["accuracy"][0])
    assert comparison.dataset_version_id == holdout.id
    # The roles swapped: the same rows, the other way round.
    swapped = do.read(
        evaluations.champion_vs_challenger, "screen", champion="challenger", challenger="champion"
    )
    assert {n: (a, b) for n, a, b, _d in swapped.rows}["accuracy"] == (
        rows["accuracy"][1],
        rows["accuracy"][0],
    )


def test_regression_and_clustering_and_errors(do: UseCases, project: str) -> None:
    y = [1.0, 2.0, 3.0, 4.0, 5.0]
    p = [1.1, 1.9, 3.2, 3.8, 5.3]
    rec = evaluate(do, project, task="regression", y_true=y, y_pred=p, n_boot=0)
    assert {m.name: m.value for m in rec.evaluation.metrics}["r2"] == pytest.approx(
        skm.r2_score(y, p)
    )
    features = [[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [0.0, 0.2], [5.0, 5.2]]
    labels = [0, 0, 1, 1, 0, 1]
    rec = evaluate(
        do, project, task="clustering", y_true=labels, y_pred=labels, features=features, n_boot=0
    )
    sil = {m.name: m.value for m in rec.evaluation.metrics}["silhouette"]
    assert sil == pytest.approx(skm.silhouette_score(features, labels))
    with pytest.raises(InvalidInput):
        evaluate(do, project, task="classification", y_true=[1, 0, 1], y_pred=[1, 0])
    with pytest.raises(InvalidInput, match="feature matrix"):
        evaluate(do, project, task="clustering", y_true=labels, y_pred=labels)
    with pytest.raises(ValidationError):
        EvaluationIn.model_validate({"task": "ranking", "y_true": [1], "y_pred": [1]})
    with pytest.raises(NotFound):
        do.read(evaluations.champion_vs_challenger, "nope")
    assert len(do.read(evaluations.list_for_project, project)) == 2
