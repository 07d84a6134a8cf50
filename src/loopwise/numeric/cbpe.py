"""Confidence-based performance estimation (CBPE) for binary classifiers, before labels come.

The method, as NannyML documents it: when a model's score ``s`` is a calibrated
probability, P(y = 1 | s) = s, each row is a true positive with probability ``s`` if the
model predicts 1 (``s >= threshold``), a false positive with probability ``1 - s``, and so
on. Summing those probabilities gives the expected confusion matrix

    TP = sum(s | s >= t)   FP = sum(1 - s | s >= t)   FN = sum(s | s < t)   TN = sum(1 - s | s < t)

and the metrics follow as NannyML computes them: accuracy ``(TP + TN) / n`` (its exact
expectation), precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``, F1
``TP / (TP + (FP + FN) / 2)`` (ratios of expectations, close to the expected ratio for
more than a few hundred rows), and ROC AUC as the area under the expected ROC curve
(cumulative expected TP and FP rates over the scores in decreasing order, tied scores
taken together). Every estimate equals the scikit-learn metric on the "doubled" sample in
which each row counts as a positive with weight ``s`` and a negative with weight ``1 - s``.

Assumptions (the estimate is wrong, silently, when they fail):

1. the scores are calibrated on the current data: P(y = 1 | s) = s. Check it on the
   reference data with labels (``calibration``); NannyML recalibrates the scores on the
   reference with isotonic regression first, here the caller passes calibrated scores;
2. no concept drift: P(y | x) is the same in production as in the reference, so the
   calibration measured there still holds (covariate shift alone is fine);
3. rows are independent, and there are enough of them: a metric's sampling error is about
   its standard deviation over sqrt(n).

A metric is None where it is undefined: precision with no predicted positives, recall
with no expected positives, ROC AUC with no expected positives or negatives. The same
rules apply to ``realised_performance``, which computes the metrics from labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loopwise.core.errors import InvalidInput

ECE_BINS = 10
CONSISTENCY_DRAWS = 500  # labels drawn from the scores to judge an ECE (reliability test)


@dataclass(frozen=True)
class EstimatedPerformance:
    """Metrics expected from calibrated scores (None where undefined)."""

    rows: int
    threshold: float
    accuracy: float
    precision: float | None
    recall: float | None
    f1: float | None
    roc_auc: float | None


@dataclass(frozen=True)
class RealisedPerformance(EstimatedPerformance):
    """The same metrics, from labels (cross-checked against scikit-learn)."""


@dataclass(frozen=True)
class Calibration:
    """How well scores match label frequencies on labelled (reference) data.

    ``ece``: expected calibration error, sum over ``bins`` equal-width score bins of
    (rows in bin / n) * |mean label - mean score|; ``max_gap``: the largest such gap in a
    bin; ``brier``: mean squared error of the scores. ``p_value``: share of label sets
    drawn from the scores themselves (perfect calibration, the same rows) whose ECE is at
    least the observed one: a small ECE is expected from sampling alone with few rows, and
    this says whether the observed one is more than that. ``calibrated``: p_value >= alpha.
    """

    rows: int
    bins: int
    ece: float
    max_gap: float
    brier: float
    p_value: float
    alpha: float
    calibrated: bool


def _scores(scores: np.ndarray) -> np.ndarray:
    try:
        s = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput("scores must be numbers") from None
    if s.ndim != 1 or len(s) == 0:
        raise InvalidInput("scores must be a non-empty one-dimensional array")
    if not np.all(np.isfinite(s)) or s.min() < 0 or s.max() > 1:
        raise InvalidInput("scores must be probabilities between 0 and 1")
    return s


def _labels(y_true: np.ndarray, rows: int) -> np.ndarray:
    y = np.asarray(y_true)
    if y.shape != (rows,):
        raise InvalidInput("labels and scores must have the same length")
    if not np.all(np.isin(y, (0, 1))):
        raise InvalidInput("labels must be 0 or 1")
    return y.astype(np.float64)


def _threshold(threshold: float) -> float:
    if not 0 <= threshold <= 1:
        raise InvalidInput("the decision threshold must lie between 0 and 1")
    return float(threshold)


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _area(positive: np.ndarray, negative: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve of rows weighted as positives and negatives, sweeping the
    threshold down through the distinct scores (ties stepped over together)."""
    total_p, total_n = positive.sum(), negative.sum()
    if total_p <= 0 or total_n <= 0:
        return None
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    last = np.r_[np.diff(s) != 0, True]
    tpr = np.r_[0.0, np.cumsum(positive[order])[last] / total_p]
    fpr = np.r_[0.0, np.cumsum(negative[order])[last] / total_n]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _metrics(
    cls: type[EstimatedPerformance],
    positive: np.ndarray,
    negative: np.ndarray,
    scores: np.ndarray,
    threshold: float,
) -> EstimatedPerformance:
    predicted = scores >= threshold
    tp, fp = float(positive[predicted].sum()), float(negative[predicted].sum())
    fn, tn = float(positive[~predicted].sum()), float(negative[~predicted].sum())
    return cls(
        rows=len(scores),
        threshold=threshold,
        accuracy=(tp + tn) / len(scores),
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        f1=_ratio(tp, tp + (fp + fn) / 2) if tp + fp + fn > 0 else None,
        roc_auc=_area(positive, negative, scores),
    )


def estimate_performance(scores: np.ndarray, threshold: float = 0.5) -> EstimatedPerformance:
    """Expected accuracy, precision, recall, F1 and ROC AUC of a binary classifier from
    its calibrated scores alone (CBPE; assumptions in the module doc). A row is predicted
    positive when its score is >= ``threshold``."""
    s = _scores(scores)
    return _metrics(EstimatedPerformance, s, 1 - s, s, _threshold(threshold))


def realised_performance(
    y_true: np.ndarray, scores: np.ndarray, threshold: float = 0.5
) -> RealisedPerformance:
    """The same metrics from labels (0/1): what ``estimate_performance`` estimates."""
    s = _scores(scores)
    y = _labels(y_true, len(s))
    result = _metrics(RealisedPerformance, y, 1 - y, s, _threshold(threshold))
    assert isinstance(result, RealisedPerformance)
    return result


def _ece(bins: np.ndarray, scores: np.ndarray, labels: np.ndarray, n_bins: int) -> np.ndarray:
    """ECE of each row of ``labels`` (shape draws x n, or n) at once."""
    labels2 = np.atleast_2d(labels)
    rows = len(scores)
    score_sum = np.bincount(bins, weights=scores, minlength=n_bins)
    draws = labels2.shape[0]
    flat = (bins + n_bins * np.arange(draws)[:, None]).ravel()
    label_sum = np.bincount(flat, weights=labels2.ravel(), minlength=n_bins * draws).reshape(
        draws, n_bins
    )
    return np.asarray(np.abs(label_sum - score_sum).sum(axis=1) / rows)


def calibration(
    y_true: np.ndarray,
    scores: np.ndarray,
    bins: int = ECE_BINS,
    alpha: float = 0.05,
    seed: int = 0,
) -> Calibration:
    """Whether scores are calibrated on labelled data (CBPE's first assumption).

    The reliability test draws ``CONSISTENCY_DRAWS`` label sets from the scores
    (y ~ Bernoulli(s), so perfectly calibrated by construction) and compares their ECE
    with the observed one (Broecker and Smith's consistency resampling, seeded)."""
    s = _scores(scores)
    y = _labels(y_true, len(s))
    if bins < 1:
        raise InvalidInput("calibration needs at least one bin")
    if not 0 < alpha < 1:
        raise InvalidInput("alpha must lie between 0 and 1")
    which = np.minimum((s * bins).astype(np.int64), bins - 1)
    observed = float(_ece(which, s, y, bins)[0])
    size = np.bincount(which, minlength=bins)
    gaps = np.abs(
        np.bincount(which, weights=y, minlength=bins)
        - np.bincount(which, weights=s, minlength=bins)
    )
    max_gap = float(np.max(gaps[size > 0] / size[size > 0]))
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // len(s))  # draws per batch: bounded memory
    exceed = 0
    for start in range(0, CONSISTENCY_DRAWS, chunk):
        n = min(chunk, CONSISTENCY_DRAWS - start)
        drawn = (rng.random((n, len(s))) < s).astype(np.float64)
        exceed += int(np.sum(_ece(which, s, drawn, bins) >= observed - 1e-12))
    p_value = (exceed + 1) / (CONSISTENCY_DRAWS + 1)
    return Calibration(
        rows=len(s),
        bins=bins,
        ece=observed,
        max_gap=max_gap,
        brier=float(np.mean((s - y) ** 2)),
        p_value=p_value,
        alpha=alpha,
        calibrated=p_value >= alpha,
    )
