"""Evaluation metrics and their bootstrap intervals, checked against scikit-learn and
SciPy (the references), never against typed-in numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm
from sklearn.cluster import KMeans
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression

from loopwise.numeric.evaluation import (
    EvaluationError,
    classification_replicates,
    compare,
    evaluate_classification,
    evaluate_clustering,
    evaluate_regression,
    regression_replicates,
    weighted_auc,
)


@pytest.fixture(scope="module")
def binary() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(x[::2], y[::2])
    return y[1::2], model.predict(x[1::2]), model.predict_proba(x[1::2])[:, 1], x[1::2]


@pytest.fixture(scope="module")
def multiclass() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(x[::3], y[::3])
    keep = np.arange(len(y)) % 3 != 0
    return y[keep], model.predict(x[keep]), model.predict_proba(x[keep])


def test_binary_point_values_are_scikit_learns(binary) -> None:  # type: ignore[no-untyped-def]
    y, p, s, _ = binary
    e = evaluate_classification(y, p, s, n_boot=0)
    assert e.metric("accuracy").value == skm.accuracy_score(y, p)
    assert e.metric("precision").value == skm.precision_score(y, p)
    assert e.metric("recall").value == skm.recall_score(y, p)
    assert e.metric("f1").value == skm.f1_score(y, p)
    assert e.metric("roc_auc").value == skm.roc_auc_score(y, s)
    assert np.array_equal(np.array(e.confusion), skm.confusion_matrix(y, p))


def test_every_binary_replicate_matches_weighted_scikit_learn(binary) -> None:  # type: ignore[no-untyped-def]
    y, p, s, _ = binary
    rng = np.random.default_rng(0)
    weights = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=25).astype(float)
    reps = classification_replicates(y, p, s, np.unique(y), weights)
    for i, w in enumerate(weights):
        assert reps["accuracy"][i] == pytest.approx(skm.accuracy_score(y, p, sample_weight=w))
        assert reps["precision"][i] == pytest.approx(skm.precision_score(y, p, sample_weight=w))
        assert reps["recall"][i] == pytest.approx(skm.recall_score(y, p, sample_weight=w))
        assert reps["f1"][i] == pytest.approx(skm.f1_score(y, p, sample_weight=w))
        assert reps["roc_auc"][i] == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w))


def test_every_multiclass_replicate_matches_weighted_scikit_learn(multiclass) -> None:  # type: ignore[no-untyped-def]
    y, p, proba = multiclass
    labels = np.unique(y)
    rng = np.random.default_rng(1)
    weights = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=20).astype(float)
    reps = classification_replicates(y, p, proba, labels, weights)
    for i, w in enumerate(weights):
        kw = {"average": "macro", "labels": labels, "zero_division": 0.0, "sample_weight": w}
        assert reps["precision"][i] == pytest.approx(skm.precision_score(y, p, **kw))
        assert reps["recall"][i] == pytest.approx(skm.recall_score(y, p, **kw))
        assert reps["f1"][i] == pytest.approx(skm.f1_score(y, p, **kw))
        assert reps["roc_auc"][i] == pytest.approx(
            skm.roc_auc_score(y, proba, multi_class="ovr", sample_weight=w)
        )


def test_weighted_auc_handles_ties_like_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300).astype(bool)
    s = rng.integers(0, 5, 300).astype(float)  # heavy ties
    w = rng.integers(0, 4, (10, 300)).astype(float)
    ours = weighted_auc(y, s, w)
    for i in range(10):
        assert ours[i] == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w[i]))


def test_regression_matches_scikit_learn_and_weighted_replicates() -> None:
    x, y = load_diabetes(return_X_y=True)
    p = LinearRegression().fit(x[::2], y[::2]).predict(x[1::2])
    y = y[1::2]
    e = evaluate_regression(y, p, n_boot=0)
    assert e.metric("mae").value == pytest.approx(skm.mean_absolute_error(y, p))
    assert e.metric("rmse").value == pytest.approx(skm.root_mean_squared_error(y, p))
    assert e.metric("r2").value == pytest.approx(skm.r2_score(y, p))
    w = np.random.default_rng(3).integers(0, 3, (10, len(y))).astype(float)
    reps = regression_replicates(y, p, w)
    for i in range(10):
        assert reps["mse"][i] == pytest.approx(skm.mean_squared_error(y, p, sample_weight=w[i]))
        assert reps["r2"][i] == pytest.approx(skm.r2_score(y, p, sample_weight=w[i]))


def test_bootstrap_interval_agrees_with_scipy(binary) -> None:  # type: ignore[no-untyped-def]
    y, p, _, _ = binary
    ours = evaluate_classification(y, p, n_boot=4000, seed=5).metric("accuracy")
    correct = (y == p).astype(float)
    ref = stats.bootstrap(
        (correct,),
        np.mean,
        n_resamples=4000,
        method="percentile",
        random_state=np.random.default_rng(6),
    ).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=0.01)
    assert ours.high == pytest.approx(ref.high, abs=0.01)
    assert ours.low < ours.value < ours.high


def test_slices_equal_evaluating_each_subset(binary) -> None:  # type: ignore[no-untyped-def]
    y, p, s, x = binary
    group = np.where(x[:, 0] > 14, "large", "small")
    e = evaluate_classification(y, p, s, slices=group, slice_column="radius", n_boot=50)
    assert {sl.value for sl in e.slices} == {"large", "small"}
    for sl in e.slices:
        mask = group == sl.value
        assert sl.rows == mask.sum()
        sub = evaluate_classification(y[mask], p[mask], s[mask], n_boot=0)
        for m in sl.metrics:
            assert m.value == pytest.approx(sub.metric(m.name).value)


def test_clustering_matches_scikit_learn() -> None:
    x, _ = load_iris(return_X_y=True)
    labels = KMeans(n_clusters=3, n_init=3, random_state=0).fit_predict(x)
    e = evaluate_clustering(x, labels, n_boot=20)
    assert e.metric("silhouette").value == pytest.approx(skm.silhouette_score(x, labels))
    assert e.metric("davies_bouldin").value == pytest.approx(skm.davies_bouldin_score(x, labels))
    assert e.metric("silhouette").low is not None


def test_champion_challenger_difference(binary) -> None:  # type: ignore[no-untyped-def]
    y, p, s, _ = binary
    a = evaluate_classification(y, p, s, n_boot=0)
    b = evaluate_classification(y, np.ones_like(p), s, n_boot=0)
    rows = {name: (x, z, d) for name, x, z, d in compare(a, b)}
    assert rows["recall"][1] == 1.0 and rows["recall"][2] == pytest.approx(1.0 - rows["recall"][0])


@pytest.mark.parametrize(("y", "p"), [([1, 0, 1], [1, 0]), ([], []), ([1, 1, 1], [1, 1, 1])])
def test_bad_input_is_a_clear_error(y: list[int], p: list[int]) -> None:
    with pytest.raises(EvaluationError):
        evaluate_classification(y, p)
