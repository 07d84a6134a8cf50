"""Stored evaluations and champion vs challenger, cross-checked against scikit-learn."""

from __future__ import annotations

import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from loopwise import Client
from loopwise.core.errors import InvalidInput, NotFound


def test_champion_and_challenger_on_the_same_dataset_version(client: Client) -> None:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    client.create_project("EVAL", "Evaluation")
    holdout = client.register_dataset("EVAL", "holdout", x.iloc[400:].assign(target=y.iloc[400:]))
    client.create_model("EVAL", "screen")
    preds = {}
    for alias, model in (
        ("champion", LogisticRegression(max_iter=5000)),
        ("challenger", RandomForestClassifier(n_estimators=50, random_state=0)),
    ):
        model.fit(x.iloc[:400], y.iloc[:400])
        with client.start_run("EVAL", name=alias) as run:
            run.use_dataset(holdout.version, "eval")
        mv = client.create_model_version("screen", run_id=run.id)
        client.set_alias("screen", alias, mv.version)
        p, s = model.predict(x.iloc[400:]), model.predict_proba(x.iloc[400:])[:, 1]
        preds[alias] = (p, s)
        record = client.evaluate(
            "EVAL",
            "classification",
            y.iloc[400:].tolist(),
            p.tolist(),
            y_score=s.tolist(),
            model="screen",
            version=mv.version,
            dataset_version_id=holdout.version.id,
            n_boot=200,
        )
        est = {m.name: m for m in record.evaluation.metrics}
        assert est["recall"].value == pytest.approx(skm.recall_score(y.iloc[400:], p))
        assert est["roc_auc"].value == pytest.approx(skm.roc_auc_score(y.iloc[400:], s))
        assert est["recall"].low <= est["recall"].value <= est["recall"].high
    comparison = client.compare("screen")
    rows = {name: (a, b, d) for name, a, b, d in comparison.rows}
    champ_p, chall_p = preds["champion"][0], preds["challenger"][0]
    assert rows["accuracy"][0] == pytest.approx(skm.accuracy_score(y.iloc[400:], champ_p))
    assert rows["accuracy"][1] == pytest.approx(skm.accuracy_score(y.iloc[400:], chall_p))
    assert rows["accuracy"][2] == pytest.approx(rows["accuracy"][1] - rows["accuracy"][0])
    assert comparison.dataset_version_id == holdout.version.id


def test_regression_and_clustering_and_errors(client: Client) -> None:
    client.create_project("EVAL", "Evaluation")
    y = [1.0, 2.0, 3.0, 4.0, 5.0]
    p = [1.1, 1.9, 3.2, 3.8, 5.3]
    rec = client.evaluate("EVAL", "regression", y, p, n_boot=0)
    assert {m.name: m.value for m in rec.evaluation.metrics}["r2"] == pytest.approx(
        skm.r2_score(y, p)
    )
    features = [[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [0.0, 0.2], [5.0, 5.2]]
    labels = [0, 0, 1, 1, 0, 1]
    rec = client.evaluate("EVAL", "clustering", labels, labels, features=features, n_boot=0)
    sil = {m.name: m.value for m in rec.evaluation.metrics}["silhouette"]
    assert sil == pytest.approx(skm.silhouette_score(features, labels))
    with pytest.raises(InvalidInput):
        client.evaluate("EVAL", "classification", [1, 0, 1], [1, 0])
    with pytest.raises(NotFound):
        client.compare("nope")
