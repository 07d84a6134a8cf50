"""Leakage between a training and an evaluation dataset version.

Three checks:
1. exact duplicate rows present in both (from the row hashes of the profiling pass);
2. identifier values present in both (for the given id columns);
3. single features that predict the label almost perfectly on the evaluation data after
   fitting on the training data (a shallow decision tree per feature; score >= 0.99 in
   balanced accuracy for classification or R² for regression).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # heavy imports happen inside the functions that need them
    import pandas as pd

PREDICTIVE = 0.99
SAMPLE_ROWS = 100_000


@dataclass(frozen=True)
class FeatureScore:
    feature: str
    score: float
    metric: str


@dataclass(frozen=True)
class LeakageReport:
    train_rows: int
    eval_rows: int
    shared_rows: int
    shared_row_share: float  # of the evaluation rows
    id_overlaps: tuple[tuple[str, int], ...]
    predictive_features: tuple[FeatureScore, ...]  # only the ones at or above PREDICTIVE
    label: str | None
    flags: tuple[str, ...]


def shared_rows(train_hashes: np.ndarray, eval_hashes: np.ndarray) -> int:
    """Evaluation rows whose exact content also appears in the training data."""
    return int(np.isin(eval_hashes, np.unique(train_hashes)).sum())


def _encode(train: pd.Series, test: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(train) and pd.api.types.is_numeric_dtype(test):
        fill = float(train.median()) if train.notna().any() else 0.0
        return (
            train.fillna(fill).to_numpy(float).reshape(-1, 1),
            test.fillna(fill).to_numpy(float).reshape(-1, 1),
        )
    cats = {v: i for i, v in enumerate(pd.unique(train.astype(str)))}

    def enc(s: pd.Series) -> np.ndarray:
        return s.astype(str).map(cats).fillna(-1).to_numpy(float).reshape(-1, 1)

    return enc(train), enc(test)


def feature_scores(
    train: pd.DataFrame, test: pd.DataFrame, label: str, features: Sequence[str], *, seed: int = 0
) -> list[FeatureScore]:
    import pandas as pd
    from sklearn.metrics import balanced_accuracy_score, r2_score
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    y_train, y_test = train[label], test[label]
    keep_train, keep_test = y_train.notna(), y_test.notna()
    classification = not pd.api.types.is_float_dtype(y_train) or y_train.nunique() <= 20
    out = []
    for name in features:
        x_tr, x_te = _encode(train.loc[keep_train, name], test.loc[keep_test, name])
        if classification:
            model = DecisionTreeClassifier(max_depth=4, random_state=seed)
            model.fit(x_tr, y_train[keep_train].astype(str))
            score = balanced_accuracy_score(y_test[keep_test].astype(str), model.predict(x_te))
            out.append(FeatureScore(name, float(score), "balanced_accuracy"))
        else:
            reg = DecisionTreeRegressor(max_depth=6, random_state=seed)
            reg.fit(x_tr, y_train[keep_train].to_numpy(float))
            score = r2_score(y_test[keep_test].to_numpy(float), reg.predict(x_te))
            out.append(FeatureScore(name, float(score), "r2"))
    return sorted(out, key=lambda f: -f.score)


def check_leakage(
    train_hashes: np.ndarray,
    eval_hashes: np.ndarray,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    label: str | None = None,
    id_columns: Sequence[str] = (),
    seed: int = 0,
) -> LeakageReport:
    shared = shared_rows(train_hashes, eval_hashes)
    flags = []
    if shared:
        flags.append(f"{shared} evaluation rows also appear in the training data")
    overlaps = []
    for col in id_columns:
        if col not in train or col not in test:
            raise ValueError(f"id column {col!r} is not in both versions")
        n = int(test[col].dropna().astype(str).isin(set(train[col].dropna().astype(str))).sum())
        overlaps.append((col, n))
        if n:
            flags.append(f"{n} {col} values appear in both versions")
    predictive: tuple[FeatureScore, ...] = ()
    if label is not None:
        if label not in train or label not in test:
            raise ValueError(f"label column {label!r} is not in both versions")
        if train[label].nunique(dropna=True) < 2:
            raise ValueError(f"label column {label!r} has fewer than two values in training data")
        features = [c for c in train.columns if c != label and c in test and c not in id_columns]
        tr = train.sample(min(len(train), SAMPLE_ROWS), random_state=seed)
        te = test.sample(min(len(test), SAMPLE_ROWS), random_state=seed)
        predictive = tuple(
            f for f in feature_scores(tr, te, label, features, seed=seed) if f.score >= PREDICTIVE
        )
        for f in predictive:
            flags.append(f"{f.feature} alone predicts {label} ({f.metric} {f.score:.3f})")
    return LeakageReport(
        train_rows=len(train_hashes),
        eval_rows=len(eval_hashes),
        shared_rows=shared,
        shared_row_share=shared / len(eval_hashes) if len(eval_hashes) else 0.0,
        id_overlaps=tuple(overlaps),
        predictive_features=predictive,
        label=label,
        flags=tuple(flags),
    )
