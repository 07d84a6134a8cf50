"""Model evaluation: metrics from predictions and labels, with bootstrap confidence
intervals and per-slice results (error analysis).

Metric values come from scikit-learn. Intervals are percentile bootstraps: the rows are
resampled with replacement ``n_boot`` times and each metric recomputed with the
resample's multiplicities as sample weights (identical to recomputing on the resample).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_BOOT = 500
MAX_SLICES = 50

Floats = NDArray[np.float64]
# class labels and slice values: numbers, strings or booleans, as the caller gave them
Labels = NDArray[Any]
Rows = NDArray[np.intp]  # row indexes


class Task(StrEnum):
    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    CLUSTERING = "clustering"


class EvaluationError(ValueError):
    """Inputs that cannot be evaluated (mismatched lengths, one class only, ...)."""


@dataclass(frozen=True)
class Estimate:
    name: str
    value: float
    low: float | None  # bootstrap interval; None when it cannot be computed
    high: float | None


@dataclass(frozen=True)
class SliceResult:
    value: str
    rows: int
    metrics: tuple[Estimate, ...]


@dataclass(frozen=True)
class Evaluation:
    task: Task
    rows: int
    confidence: float
    metrics: tuple[Estimate, ...]
    labels: tuple[str, ...] = ()
    confusion: tuple[tuple[int, ...], ...] = ()  # rows: true label, columns: predicted
    slice_column: str | None = None
    slices: tuple[SliceResult, ...] = ()

    def metric(self, name: str) -> Estimate:
        return next(m for m in self.metrics if m.name == name)


def _weights(n: int, n_boot: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Multiplicities of each row in each bootstrap resample (n_boot x n)."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def _defined(fn: Callable[[], float]) -> float | None:
    """The metric's value, or None where scikit-learn says it is undefined on this data."""
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        try:
            value = float(fn())
        except (ValueError, UndefinedMetricWarning):
            return None
    return value if np.isfinite(value) else None


def _ratio(num: Floats, den: Floats) -> Floats:
    """num / den with 0 where den is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros_like(num, dtype=float)
    np.divide(num, den, out=out, where=den > 0)
    return out


def weighted_auc(positive: NDArray[np.bool_], score: Floats, weights: Floats) -> Floats:
    """ROC AUC for each row of ``weights`` (B x n): the weighted Mann-Whitney statistic,
    ties counting one half. NaN where a resample lacks a class."""
    order = np.argsort(score, kind="mergesort")
    sorted_score = score[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_score)) + 1]
    w = weights[:, order]
    pos = positive[order]
    pos_w = np.add.reduceat(w * pos, starts, axis=1)
    neg_w = np.add.reduceat(w * ~pos, starts, axis=1)
    below = np.cumsum(neg_w, axis=1) - neg_w
    num = (pos_w * (below + 0.5 * neg_w)).sum(axis=1)
    den = pos_w.sum(axis=1) * neg_w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def classification_replicates(
    y: Labels, p: Labels, score: Floats | None, labels: Labels, weights: Floats
) -> dict[str, Floats]:
    """Every classification metric for each weight row, vectorised (B values each)."""
    k = len(labels)
    index = {label: i for i, label in enumerate(labels.tolist())}
    yi = np.array([index[v] for v in y.tolist()])
    pi = np.array([index[v] for v in p.tolist()])
    onehot = np.zeros((len(y), k * k))
    onehot[np.arange(len(y)), yi * k + pi] = 1.0
    cm = (weights @ onehot).reshape(-1, k, k)  # B x true x predicted
    tp = np.diagonal(cm, axis1=1, axis2=2)
    fp = cm.sum(axis=1) - tp
    fn = cm.sum(axis=2) - tp
    total = cm.sum(axis=(1, 2))
    out = {"accuracy": _ratio(tp.sum(axis=1), total)}
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    if k == 2:  # binary: the second label is the positive class
        out.update(precision=precision[:, 1], recall=recall[:, 1], f1=f1[:, 1])
    else:
        out.update(precision=precision.mean(axis=1), recall=recall.mean(axis=1), f1=f1.mean(axis=1))
    if score is not None:
        if k == 2:
            s = score if score.ndim == 1 else score[:, 1]
            out["roc_auc"] = weighted_auc(yi == 1, s, weights)
        else:
            per_class = np.stack([weighted_auc(yi == c, score[:, c], weights) for c in range(k)])
            out["roc_auc"] = per_class.mean(axis=0)
    return out


def regression_replicates(y: Floats, p: Floats, weights: Floats) -> dict[str, Floats]:
    err = p - y
    total = weights.sum(axis=1)
    mse = weights @ (err**2) / total
    mean_y = weights @ y / total
    spread = weights @ (y**2) - total * mean_y**2
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(
            spread > 1e-12 * np.maximum(total, 1), 1 - (weights @ (err**2)) / spread, np.nan
        )
    return {
        "mae": weights @ np.abs(err) / total,
        "mse": mse,
        "rmse": np.sqrt(mse),
        "r2": r2,
    }


def _estimates(
    points: dict[str, Callable[[], float]],
    replicates: Callable[[Floats], dict[str, Floats]],
    n: int,
    n_boot: int,
    confidence: float,
    seed: int,
) -> tuple[Estimate, ...]:
    boot: dict[str, Floats] = {}
    if n_boot > 0 and n >= 2:
        boot = replicates(_weights(n, n_boot, np.random.default_rng(seed)))
    alpha = (1 - confidence) / 2
    out = []
    for name, fn in points.items():
        value = _defined(fn)
        if value is None:
            continue  # not defined on this data (e.g. ROC AUC with one class)
        low = high = None
        values = boot.get(name)
        if values is not None:
            finite = values[np.isfinite(values)]
            if len(finite) >= max(10, n_boot // 2):
                low, high = (float(v) for v in np.quantile(finite, [alpha, 1 - alpha]))
        out.append(Estimate(name, value, low, high))
    return tuple(out)


def _check_lengths(*arrays: NDArray[Any]) -> int:
    n = len(arrays[0])
    if n == 0:
        raise EvaluationError("nothing to evaluate: no rows")
    if any(len(a) != n for a in arrays):
        raise EvaluationError("predictions, labels and scores must have the same length")
    return n


def _classification_points(
    y: Labels, p: Labels, score: Floats | None, labels: Labels
) -> dict[str, Callable[[], float]]:
    from sklearn import metrics as skm

    binary = len(labels) == 2
    kw: dict[str, object] = {"average": "binary" if binary else "macro", "zero_division": 0.0}
    if binary:
        kw["pos_label"] = labels[1]
    else:
        kw["labels"] = labels
    points: dict[str, Callable[[], float]] = {
        "accuracy": lambda: skm.accuracy_score(y, p),
        "precision": lambda: skm.precision_score(y, p, **kw),
        "recall": lambda: skm.recall_score(y, p, **kw),
        "f1": lambda: skm.f1_score(y, p, **kw),
    }
    if score is not None:
        if binary:
            s = score if score.ndim == 1 else score[:, 1]
            points["roc_auc"] = lambda: skm.roc_auc_score(y == labels[1], s)
        else:
            points["roc_auc"] = lambda: skm.roc_auc_score(
                y, score, multi_class="ovr", labels=labels
            )
    return points


def evaluate_classification(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    y_score: ArrayLike | None = None,
    *,
    slices: ArrayLike | None = None,
    slice_column: str | None = None,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
) -> Evaluation:
    """Accuracy, precision, recall, F1 (binary: the second sorted label is positive;
    otherwise macro-averaged), ROC AUC when scores are given (probability of the positive
    class, or one column per class in label order), and the confusion matrix."""
    from sklearn import metrics as skm

    y, p = np.asarray(y_true), np.asarray(y_pred)
    score = None if y_score is None else np.asarray(y_score, dtype=float)
    n = _check_lengths(y, p, *(a for a in (score,) if a is not None))
    labels = np.unique(np.concatenate([y, p]))
    if len(labels) < 2:
        raise EvaluationError("classification needs at least two classes in labels or predictions")
    if score is not None and score.ndim == 2 and score.shape[1] != len(labels):
        raise EvaluationError(f"scores need one column per class ({len(labels)})")

    def estimates(idx: Rows | slice) -> tuple[Estimate, ...]:
        yy, pp = y[idx], p[idx]
        ss = None if score is None else score[idx]
        return _estimates(
            _classification_points(yy, pp, ss, labels),
            lambda w: classification_replicates(yy, pp, ss, labels, w),
            len(yy),
            n_boot,
            confidence,
            seed,
        )

    return Evaluation(
        task=Task.CLASSIFICATION,
        rows=n,
        confidence=confidence,
        metrics=estimates(slice(None)),
        labels=tuple(str(label) for label in labels),
        confusion=tuple(
            tuple(int(v) for v in row) for row in skm.confusion_matrix(y, p, labels=labels)
        ),
        slice_column=slice_column,
        slices=_slices(slices, n, estimates),
    )


def evaluate_regression(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    slices: ArrayLike | None = None,
    slice_column: str | None = None,
    confidence: float = 0.95,
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
) -> Evaluation:
    """MAE, MSE, RMSE and R²."""
    from sklearn import metrics as skm

    y, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    n = _check_lengths(y, p)
    if not (np.isfinite(y).all() and np.isfinite(p).all()):
        raise EvaluationError("labels and predictions must be finite numbers")

    def estimates(idx: Rows | slice) -> tuple[Estimate, ...]:
        yy, pp = y[idx], p[idx]
        points: dict[str, Callable[[], float]] = {
            "mae": lambda: skm.mean_absolute_error(yy, pp),
            "mse": lambda: skm.mean_squared_error(yy, pp),
            "rmse": lambda: skm.root_mean_squared_error(yy, pp),
            "r2": lambda: skm.r2_score(yy, pp) if len(yy) > 1 else float("nan"),
        }
        return _estimates(
            points, lambda w: regression_replicates(yy, pp, w), len(yy), n_boot, confidence, seed
        )

    return Evaluation(
        task=Task.REGRESSION,
        rows=n,
        confidence=confidence,
        metrics=estimates(slice(None)),
        slice_column=slice_column,
        slices=_slices(slices, n, estimates),
    )


def evaluate_clustering(
    features: ArrayLike,
    labels: ArrayLike,
    *,
    confidence: float = 0.95,
    n_boot: int = 0,
    seed: int = 0,
    sample_size: int | None = 5000,
) -> Evaluation:
    """Silhouette (higher is better) and Davies-Bouldin (lower is better).

    These metrics do not take sample weights; intervals come from plain resamples of
    the rows when ``n_boot`` > 0 (off by default: silhouette is O(n²)). Silhouette is
    computed on a fixed random sample of ``sample_size`` rows for large inputs.
    """
    from sklearn import metrics as skm

    x = np.asarray(features, dtype=float)
    lab = np.asarray(labels)
    n = _check_lengths(x, lab)
    if len(np.unique(lab)) < 2 or len(np.unique(lab)) >= n:
        raise EvaluationError("clustering metrics need 2 to n-1 clusters")
    rng = np.random.default_rng(seed)

    def silhouette(idx: NDArray[np.int64] | None) -> float:
        xs, ls = (x, lab) if idx is None else (x[idx], lab[idx])
        k = sample_size if sample_size and len(xs) > sample_size else None
        return float(skm.silhouette_score(xs, ls, sample_size=k, random_state=seed))

    def davies(idx: NDArray[np.int64] | None) -> float:
        xs, ls = (x, lab) if idx is None else (x[idx], lab[idx])
        return float(skm.davies_bouldin_score(xs, ls))

    out = []
    for name, fn in (("silhouette", silhouette), ("davies_bouldin", davies)):
        value = fn(None)
        low = high = None
        if n_boot > 0:
            boot = []
            for _ in range(n_boot):
                idx = rng.integers(0, n, n)
                try:
                    boot.append(fn(idx))
                except ValueError:
                    continue
            if boot:
                alpha = (1 - confidence) / 2
                low, high = (float(v) for v in np.quantile(boot, [alpha, 1 - alpha]))
        out.append(Estimate(name, value, low, high))
    return Evaluation(task=Task.CLUSTERING, rows=n, confidence=confidence, metrics=tuple(out))


def _slices(
    column: ArrayLike | None, n: int, estimates: Callable[[Rows], tuple[Estimate, ...]]
) -> tuple[SliceResult, ...]:
    if column is None:
        return ()
    values = np.asarray(column).astype(str)
    if len(values) != n:
        raise EvaluationError("the slice column must have one value per row")
    uniq, counts = np.unique(values, return_counts=True)
    if len(uniq) > MAX_SLICES:
        raise EvaluationError(f"slice column has {len(uniq)} values; at most {MAX_SLICES}")
    order = sorted(zip(uniq, counts, strict=True), key=lambda vc: (-vc[1], vc[0]))
    return tuple(
        SliceResult(str(value), int(count), estimates(np.flatnonzero(values == value)))
        for value, count in order
    )


def compare(
    champion: Evaluation, challenger: Evaluation
) -> tuple[tuple[str, float, float, float], ...]:
    """(metric, champion, challenger, challenger - champion) for shared metrics."""
    theirs = {m.name: m.value for m in challenger.metrics}
    return tuple(
        (m.name, m.value, theirs[m.name], theirs[m.name] - m.value)
        for m in champion.metrics
        if m.name in theirs
    )


__all__: Sequence[str] = (
    "Estimate",
    "Evaluation",
    "EvaluationError",
    "SliceResult",
    "Task",
    "compare",
    "evaluate_classification",
    "evaluate_clustering",
    "evaluate_regression",
)
