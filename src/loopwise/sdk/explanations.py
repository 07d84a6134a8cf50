"""SDK methods for governance records computed where the model is: explanations.

The server never loads a model (a user's pickle would run their code there), so
``Client.explain`` computes feature importances in this process, on the caller's
estimator, and sends only the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from loopwise.core.errors import InvalidInput
from loopwise.governance.models import Explanation

T = TypeVar("T")
SHAP_ROWS = 200  # rows explained with SHAP (a random sample when there are more)
SHAP_BACKGROUND = 100  # rows of them that stand for "feature absent"


def _feature_names(X: Any, feature_names: Sequence[str] | None) -> list[str]:
    width = int(np.shape(X)[1]) if len(np.shape(X)) == 2 else 0
    if feature_names is not None:
        names = [str(n) for n in feature_names]
    elif hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    else:
        names = [f"x{i}" for i in range(width)]
    if len(names) != width:
        raise InvalidInput(f"{len(names)} feature names for {width} columns of X")
    return names


def _default_scoring(estimator: Any) -> str:
    """What ``estimator.score`` measures (scikit-learn's default for permutation_importance)."""
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "accuracy"
    if is_regressor(estimator):
        return "r2"
    return "score"


def _rows(X: Any, index: np.ndarray) -> Any:
    return X.iloc[index] if hasattr(X, "iloc") else np.asarray(X)[index]


def shap_importance(
    estimator: Any, X: Any, *, max_rows: int = SHAP_ROWS, random_state: int | None = 0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and standard deviation of |SHAP value| per feature over a sample of at most
    ``max_rows`` rows (SHAP's ``Explainer`` picks the algorithm for the estimator; the
    first ``SHAP_BACKGROUND`` sampled rows are the background). Also the rows explained."""
    import shap  # the optional extra: pip install 'loopwise[explain]'

    n = int(np.shape(X)[0])
    rng = np.random.default_rng(random_state)
    index = np.sort(rng.choice(n, size=min(n, max_rows), replace=False))
    sample = _rows(X, index)
    background = _rows(X, index[:SHAP_BACKGROUND])
    try:
        explainer = shap.Explainer(estimator, background)
    except Exception:  # shap knows no such model type: explain its predictions instead
        predict = getattr(estimator, "predict_proba", None) or estimator.predict
        explainer = shap.Explainer(predict, background)
    # Tree explainers check that SHAP values add up to the model output; with a background
    # sample (interventional) that check fails on some scikit-learn forests by rounding.
    is_tree = isinstance(explainer, shap.explainers.TreeExplainer)
    values = explainer(sample, check_additivity=False) if is_tree else explainer(sample)
    magnitude = np.abs(np.asarray(values.values, dtype=float))
    if magnitude.ndim == 3:  # one column per output (class): average over the outputs
        magnitude = magnitude.mean(axis=2)
    return magnitude.mean(axis=0), magnitude.std(axis=0), len(index)


class ExplanationMethods:
    """Mixed into ``loopwise.Client``."""

    if TYPE_CHECKING:  # Client's plumbing, declared for the type checker

        def _request(self, method: str, path: str, **kwargs: Any) -> Any: ...

        @staticmethod
        def _parse(kind: type[T], data: Any) -> T: ...

    def explain(
        self,
        model_name: str,
        version: int,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        dataset_version_id: str,
        feature_names: Sequence[str] | None = None,
        scoring: str | None = None,
        n_repeats: int = 10,
        random_state: int = 0,
        shap: bool | Literal["auto"] = False,
        n_jobs: int | None = None,
    ) -> list[Explanation]:
        """Compute the permutation importance of ``estimator`` on ``X``, ``y`` here and
        keep it with the model version, pinned to ``dataset_version_id`` (the rows X and y
        came from). With ``shap=True`` (needs ``pip install 'loopwise[explain]'``) or
        ``"auto"`` (when shap is importable) also the mean |SHAP value| per feature.

        Feature names come from a DataFrame's columns, else ``feature_names``, else
        ``x0, x1...``. ``scoring`` is any scikit-learn scorer name; by default the
        estimator's own ``score`` (accuracy for classifiers, r2 for regressors)."""
        from sklearn.inspection import permutation_importance

        names = _feature_names(X, feature_names)
        if shap == "auto":
            from importlib.util import find_spec

            shap = find_spec("shap") is not None
        elif shap:
            from importlib.util import find_spec

            if find_spec("shap") is None:
                raise InvalidInput("shap is not installed: pip install 'loopwise[explain]'")
        result = permutation_importance(
            estimator,
            X,
            y,
            scoring=scoring,
            n_repeats=n_repeats,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        if scoring is None:
            baseline = float(estimator.score(X, y))
        else:
            from sklearn.metrics import get_scorer

            baseline = float(get_scorer(scoring)(estimator, X, y))
        path = f"/api/v1/models/{model_name}/versions/{version}/explanations"
        body = {
            "method": "permutation",
            "dataset_version_id": dataset_version_id,
            "scoring": scoring or _default_scoring(estimator),
            "n_repeats": n_repeats,
            "random_state": random_state,
            "baseline_score": baseline,
            "rows": int(np.shape(X)[0]),
            "features": names,
            "importances_mean": result.importances_mean.tolist(),
            "importances_std": result.importances_std.tolist(),
            "importances": result.importances.tolist(),
        }
        kept = [self._parse(Explanation, self._request("POST", path, json=body))]
        if shap:
            mean, std, rows = shap_importance(estimator, X, random_state=random_state)
            body = {
                "method": "shap",
                "dataset_version_id": dataset_version_id,
                "random_state": random_state,
                "rows": rows,
                "features": names,
                "importances_mean": mean.tolist(),
                "importances_std": std.tolist(),
            }
            kept.append(self._parse(Explanation, self._request("POST", path, json=body)))
        return kept

    def explanations(
        self, model_name: str, version: int, *, latest: bool = False
    ) -> list[Explanation]:
        """A model version's explanations, newest first (``latest``: newest per method)."""
        path = f"/api/v1/models/{model_name}/versions/{version}/explanations"
        data = self._request("GET", path, params={"latest": latest})
        return self._parse(list[Explanation], data)
