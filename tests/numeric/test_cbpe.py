"""CBPE and the calibration check, against scikit-learn and a Monte-Carlo of labels drawn
from the calibrated scores; the domain-classifier drift test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from loopwise.core.errors import InvalidInput
from loopwise.numeric.cbpe import (
    calibration,
    estimate_performance,
    realised_performance,
)
from loopwise.numeric.drift import DriftTest, domain_classifier_drift

FIELDS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def calibrated(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scores = rng.beta(1.5, 2.5, size=n)
    return (rng.random(n) < scores).astype(int), scores


@given(st.integers(0, 10_000), st.integers(20, 2000), st.sampled_from([0.3, 0.5, 0.7]))
@settings(max_examples=40, deadline=None)
def test_realised_metrics_are_scikit_learns(seed: int, n: int, threshold: float) -> None:
    y, s = calibrated(seed, n)
    s = np.round(s, 2)  # ties on purpose
    got = realised_performance(y, s, threshold)
    pred = (s >= threshold).astype(int)
    assert got.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    if pred.sum():
        assert got.precision == pytest.approx(skm.precision_score(y, pred))
    else:
        assert got.precision is None
    if y.sum():
        assert got.recall == pytest.approx(skm.recall_score(y, pred))
        assert got.f1 == pytest.approx(skm.f1_score(y, pred))
    if 0 < y.sum() < n:
        assert got.roc_auc == pytest.approx(skm.roc_auc_score(y, s))


@given(st.integers(0, 10_000), st.integers(5, 2000), st.sampled_from([0.2, 0.5, 0.8]))
@settings(max_examples=40, deadline=None)
def test_estimates_are_scikit_learn_on_the_doubled_weighted_sample(
    seed: int, n: int, threshold: float
) -> None:
    """Each row is a positive with weight s and a negative with weight 1 - s."""
    _, s = calibrated(seed, n)
    s = np.round(s, 3)
    got = estimate_performance(s, threshold)
    y2, s2, w2 = np.r_[np.ones(n), np.zeros(n)], np.r_[s, s], np.r_[s, 1 - s]
    pred2 = (s2 >= threshold).astype(int)
    assert got.accuracy == pytest.approx(skm.accuracy_score(y2, pred2, sample_weight=w2))
    if pred2.any():
        assert got.precision == pytest.approx(skm.precision_score(y2, pred2, sample_weight=w2))
    assert got.recall == pytest.approx(skm.recall_score(y2, pred2, sample_weight=w2))
    assert got.f1 == pytest.approx(skm.f1_score(y2, pred2, sample_weight=w2))
    assert got.roc_auc == pytest.approx(skm.roc_auc_score(y2, s2, sample_weight=w2))


def test_estimates_match_a_monte_carlo_of_labels_drawn_from_the_scores() -> None:
    """The assumption made true: labels drawn as Bernoulli(score). The mean realised metric
    over the draws must sit within 4 standard errors (plus the O(1/n) bias of a ratio of
    expectations) of the estimate."""
    rng = np.random.default_rng(20)
    n, draws = 3000, 400
    scores = rng.beta(1.5, 2.5, size=n)
    estimate = estimate_performance(scores)
    realised = {f: [] for f in FIELDS}  # type: dict[str, list[float]]
    for _ in range(draws):
        y = (rng.random(n) < scores).astype(int)
        r = realised_performance(y, scores)
        for f in FIELDS:
            realised[f].append(getattr(r, f))
    for f in FIELDS:
        values = np.array(realised[f])
        error = 4 * values.std(ddof=1) / np.sqrt(draws) + 2 / n
        assert abs(values.mean() - getattr(estimate, f)) <= error, f


def test_undefined_metrics_are_none() -> None:
    low = estimate_performance(np.full(10, 0.1))
    assert low.precision is None and low.accuracy == pytest.approx(0.9)
    assert estimate_performance(np.zeros(5)).roc_auc is None
    assert estimate_performance(np.zeros(5)).recall is None
    all_ones = realised_performance(np.ones(4, dtype=int), np.full(4, 0.9))
    assert all_ones.roc_auc is None and all_ones.precision == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        estimate_performance(np.array([0.2, 1.2]))
    with pytest.raises(InvalidInput, match="non-empty"):
        estimate_performance(np.array([]))
    with pytest.raises(InvalidInput, match="same length"):
        realised_performance(np.array([0, 1]), np.array([0.5]))
    with pytest.raises(InvalidInput, match="0 or 1"):
        realised_performance(np.array([0, 2]), np.array([0.5, 0.5]))
    with pytest.raises(InvalidInput, match="threshold"):
        estimate_performance(np.array([0.5]), 2.0)


# -- calibration ------------------------------------------------------------------------------


def test_ece_is_the_weighted_gap_of_scikit_learns_calibration_curve() -> None:
    y, s = calibrated(30, 5000)
    got = calibration(y, s)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="uniform")
    counts = np.histogram(s, bins=np.linspace(0, 1, 11))[0]
    weights = counts[counts > 0] / len(s)
    assert got.ece == pytest.approx(float(np.sum(weights * np.abs(prob_true - prob_pred))))
    assert got.max_gap == pytest.approx(float(np.max(np.abs(prob_true - prob_pred))))
    assert got.brier == pytest.approx(skm.brier_score_loss(y, s))


def test_calibrated_scores_pass_and_distorted_ones_fail() -> None:
    y, s = calibrated(31, 4000)
    assert calibration(y, s).calibrated
    assert not calibration(y, np.clip(s * 1.3, 0, 1)).calibrated
    assert not calibration(y, s**2).calibrated


def test_the_calibration_test_raises_false_alarms_at_its_level() -> None:
    """400 calibrated samples: the share refused at alpha 0.05 stays in 2-9% (the standard
    error is 1.1 points)."""
    refused = sum(
        not calibration(*calibrated(1000 + i, 300), seed=i).calibrated for i in range(400)
    )
    assert 0.02 <= refused / 400 <= 0.09


# -- domain classifier ------------------------------------------------------------------------


def test_the_domain_classifier_sees_a_shift_and_not_noise() -> None:
    rng = np.random.default_rng(40)
    ref = rng.normal(size=(600, 4))
    same = domain_classifier_drift(ref, rng.normal(size=(500, 4)))
    assert same.test is DriftTest.DOMAIN_CLASSIFIER and same.column == "__dataset__"
    assert abs(same.statistic - 0.5) < 0.06 and not same.drifted
    aucs = []
    for shift in (0.5, 1.5):
        cur = rng.normal(size=(500, 4))
        cur[:, 1] += shift
        aucs.append(domain_classifier_drift(ref, cur).statistic)
    assert same.statistic < aucs[0] < aucs[1] and aucs[1] > 0.75
    assert domain_classifier_drift(ref, cur).drifted


def test_the_domain_classifier_takes_nan_and_refuses_bad_shapes() -> None:
    rng = np.random.default_rng(41)
    ref, cur = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))
    ref[::7, 0], cur[::5, 2] = np.nan, np.inf
    assert 0 <= domain_classifier_drift(ref, cur).statistic <= 1
    with pytest.raises(InvalidInput, match="same columns"):
        domain_classifier_drift(ref, cur[:, :2])
    with pytest.raises(InvalidInput, match="2-D"):
        domain_classifier_drift(ref[:, 0], cur)
    with pytest.raises(InvalidInput, match="at least 5 rows"):
        domain_classifier_drift(ref[:3], cur)
