"""Real models for the demo: scikit-learn on its bundled breast cancer data set.

Everything is deterministic (fixed ``random_state``, a stratified hold-out split) and
needs no download. Training returns plain values; logging them is ``seed.py``'s job.
The positive class is *malignant*, so recall is the share of cancers the model catches.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEED = 42
TEST_SIZE = 0.25
CLASS_NAMES = ("benign", "malignant")


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    features: tuple[str, ...]


def load_split() -> Split:
    """The bundled Wisconsin data, 1 = malignant, split 75/25 stratified."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    y = (data.target == 0).astype(int)  # sklearn's 0 is malignant
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, y, test_size=TEST_SIZE, stratify=y, random_state=SEED
    )
    return Split(x_train, x_test, y_train, y_test, tuple(str(n) for n in data.feature_names))


@dataclass(frozen=True)
class ModelSpec:
    """One planned run: which model, how it is configured, what it is evidence for."""

    run_name: str
    experiment: str
    family: str  # dummy | logreg | forest | boosting
    params: dict[str, Any]
    hypothesis: str | None = None  # the hypothesis *title* it tests
    description: str = ""


@dataclass
class Trained:
    params: dict[str, str]
    series: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    final: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


Advance = Callable[[int], None]


def steps(spec: ModelSpec) -> int:
    """How many progress steps ``train`` reports for this spec."""
    match spec.family:
        case "logreg":
            return len(_SIZES) + 1
        case "forest":
            trees: int = spec.params["n_estimators"]
            return trees // _FOREST_STRIDE + 1
        case "boosting":
            stages: int = spec.params["n_estimators"]
            return stages + 1
    return 1


_SIZES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_FOREST_STRIDE = 10


def _logreg(params: dict[str, Any]) -> Any:
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    parts: list[Any] = [StandardScaler()]
    if params.get("k_best"):
        parts.append(SelectKBest(f_classif, k=params["k_best"]))
    parts.append(LogisticRegression(C=params["C"], max_iter=2000))
    return make_pipeline(*parts)


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, scores))


def _fit(spec: ModelSpec, split: Split, trained: Trained, advance: Advance) -> Any:
    """Fit the model, logging a per-step curve where the model has steps."""
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.metrics import accuracy_score, log_loss, recall_score

    p = spec.params
    x, y, xt, yt = split.x_train, split.y_train, split.x_test, split.y_test
    if spec.family == "dummy":
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy=p["strategy"]).fit(x, y)
    if spec.family == "logreg":
        # Learning curve: the same model on a growing share of the training split.
        for share in _SIZES:
            n = max(int(round(share * len(y))), 20)
            model = _logreg(p).fit(x[:n], y[:n])
            proba = model.predict_proba(xt)[:, 1]
            trained.series.setdefault("val_roc_auc", []).append((n, _auc(yt, proba)))
            trained.series.setdefault("val_recall", []).append(
                (n, float(recall_score(yt, proba >= 0.5)))
            )
            advance(1)
        return model
    if spec.family == "forest":
        model = RandomForestClassifier(
            n_estimators=p["n_estimators"],
            max_depth=p.get("max_depth"),
            random_state=SEED,
            n_jobs=1,
        ).fit(x, y)
        # Accuracy as trees are added: average the first k trees' votes.
        total = np.zeros(len(yt))
        for k, tree in enumerate(model.estimators_, start=1):
            total += tree.predict_proba(xt)[:, 1]
            if k % _FOREST_STRIDE == 0:
                proba = total / k
                trained.series.setdefault("val_accuracy", []).append(
                    (k, float(accuracy_score(yt, proba >= 0.5)))
                )
                trained.series.setdefault("val_roc_auc", []).append((k, _auc(yt, proba)))
                advance(1)
        return model
    if spec.family == "boosting":
        model = GradientBoostingClassifier(
            n_estimators=p["n_estimators"],
            learning_rate=p["learning_rate"],
            max_depth=p["max_depth"],
            subsample=p.get("subsample", 1.0),
            random_state=SEED,
        ).fit(x, y)
        for stage, proba in enumerate(model.staged_predict_proba(xt), start=1):
            trained.series.setdefault("train_loss", []).append(
                (stage, float(model.train_score_[stage - 1]))
            )
            trained.series.setdefault("val_log_loss", []).append(
                (stage, float(log_loss(yt, proba[:, 1], labels=[0, 1])))
            )
            advance(1)
        return model
    raise ValueError(f"unknown model family {spec.family!r}")


def _tuned_threshold(spec: ModelSpec, split: Split, target_recall: float) -> float:
    """The highest cut-off whose out-of-fold recall on the *training* split meets the target.

    Chosen without looking at the hold-out set, so the hold-out recall stays honest.
    """
    from sklearn.base import clone
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import recall_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    p = spec.params
    model = GradientBoostingClassifier(
        n_estimators=p["n_estimators"],
        learning_rate=p["learning_rate"],
        max_depth=p["max_depth"],
        subsample=p.get("subsample", 1.0),
        random_state=SEED,
    )
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    oof = cross_val_predict(
        clone(model), split.x_train, split.y_train, cv=folds, method="predict_proba"
    )[:, 1]
    for cut in np.round(np.arange(0.5, 0.0, -0.01), 2):
        if recall_score(split.y_train, oof >= cut) >= target_recall:
            return float(cut)
    return 0.01


def _latency_p95_ms(model: Any, rows: np.ndarray, repeats: int = 20) -> float:
    """p95 wall time of single-row predictions: the serving constraint in the charter."""
    times = []
    for i in range(repeats):
        row = rows[i % len(rows)].reshape(1, -1)
        start = time.perf_counter()
        model.predict_proba(row)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 95))


def train(spec: ModelSpec, split: Split, advance: Advance = lambda _n: None) -> Trained:
    """Fit one model and measure it on the hold-out split."""
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    trained = Trained(params={k: str(v) for k, v in spec.params.items()})
    trained.params.update(
        {
            "test_size": str(TEST_SIZE),
            "random_state": str(SEED),
            "n_features": str(spec.params.get("k_best") or len(split.features)),
        }
    )
    start = time.perf_counter()
    model = _fit(spec, split, trained, advance)
    fit_seconds = time.perf_counter() - start
    cut = 0.5
    if spec.params.get("decision_threshold") == "tuned":
        target = float(spec.params.get("target_oof_recall", 0.97))
        cut = _tuned_threshold(spec, split, target)
        trained.tags["threshold_selection"] = (
            f"3-fold out-of-fold recall >= {target:g} on the training split"
        )
    trained.params["decision_threshold"] = f"{cut:g}"
    proba = model.predict_proba(split.x_test)[:, 1]
    predicted = (proba >= cut).astype(int)
    yt = split.y_test
    trained.final = {
        "accuracy": float(accuracy_score(yt, predicted)),
        "precision": float(precision_score(yt, predicted, zero_division=0)),
        "recall": float(recall_score(yt, predicted, zero_division=0)),
        "f1": float(f1_score(yt, predicted, zero_division=0)),
        "roc_auc": float(roc_auc_score(yt, proba)),
        "fit_seconds": round(fit_seconds, 4),
        "latency_p95_ms": round(_latency_p95_ms(model, split.x_test), 4),
    }
    matrix = confusion_matrix(yt, predicted, labels=[0, 1])
    trained.artifacts["confusion_matrix.json"] = json.dumps(
        {
            "labels": list(CLASS_NAMES),
            "rows": "actual",
            "columns": "predicted",
            "matrix": matrix.tolist(),
            "decision_threshold": cut,
            "hold_out_size": int(len(yt)),
        },
        indent=2,
    ).encode()
    trained.artifacts["classification_report.txt"] = classification_report(
        yt, predicted, labels=[0, 1], target_names=list(CLASS_NAMES), digits=4, zero_division=0
    ).encode()
    trained.tags.update(
        {
            "model_family": spec.family,
            "dataset": "sklearn breast_cancer (WDBC)",
            "split": f"stratified hold-out {TEST_SIZE:g}, seed {SEED}",
            "positive_class": "malignant",
        }
    )
    advance(1)
    return trained
