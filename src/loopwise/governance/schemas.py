"""Wire models for governance input. Output uses the domain dataclasses directly."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from loopwise.core.limits import MAX_NAME
from loopwise.core.types import Finite, StrictIn
from loopwise.governance.models import ExplanationMethod

MAX_BOOTSTRAP = 10_000
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class AttestIn(StrictIn):
    item: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    note: Note = ""


class DecisionIn(StrictIn):
    note: Note = Field(default="", description="Why; required to reject.")


class WaiverIn(StrictIn):
    target: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)
    ] = Field(description="A requirement id: criterion:1, checklist:<key>, approval:1.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    expires_at: AwareDatetime = Field(description="When the waiver stops counting (UTC).")


class DatasetVersionSet(StrictIn):
    dataset_version_id: str | None = Field(
        default=None, description="The dataset version the gate is about; null: none pinned."
    )


class AuditIn(StrictIn):
    dataset_version_id: str
    label_col: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    prediction_col: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    sensitive_cols: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=10
    )
    primary_measure: str = "demographic_parity_ratio"
    justification: Note = ""
    min_group_size: int = Field(default=30, ge=1, le=1_000_000)
    bootstrap: int = Field(
        default=1000, ge=0, le=MAX_BOOTSTRAP, description="Bootstrap replicates; 0: no intervals."
    )


MAX_FEATURES = 5_000
MAX_REPEATS = 1_000
MAX_RAW_VALUES = 200_000  # features x repeats of the raw permutation values
FeatureName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
Scoring = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class ExplanationIn(StrictIn):
    """Feature importances computed by the client (``Client.explain``): the server keeps
    them with the model version and the dataset version they were computed on."""

    method: ExplanationMethod = ExplanationMethod.PERMUTATION
    dataset_version_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="The dataset version the importances were computed on (same project)."
    )
    scoring: Scoring = Field(
        default="", description="The score permuted against (accuracy, r2...); shap: empty."
    )
    n_repeats: int | None = Field(default=None, ge=1, le=MAX_REPEATS)
    random_state: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    baseline_score: Finite | None = None
    rows: int | None = Field(default=None, ge=1, le=2**31 - 1)
    features: list[FeatureName] = Field(min_length=1, max_length=MAX_FEATURES)
    importances_mean: list[Finite] = Field(min_length=1, max_length=MAX_FEATURES)
    importances_std: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=MAX_FEATURES
    )
    importances: list[list[Finite]] | None = Field(
        default=None,
        max_length=MAX_FEATURES,
        description="Permutation: the score drop of each repeat, one list per feature.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ExplanationIn:
        n = len(self.features)
        if len(set(self.features)) != n:
            twice = sorted(f for f, count in Counter(self.features).items() if count > 1)
            raise ValueError(f"feature names must be unique; repeated: {', '.join(twice[:5])}")
        if len(self.importances_mean) != n or len(self.importances_std) != n:
            raise ValueError(
                f"{n} features but {len(self.importances_mean)} means and "
                f"{len(self.importances_std)} standard deviations"
            )
        if self.method is ExplanationMethod.PERMUTATION:
            if not self.scoring:
                raise ValueError("a permutation importance names its scoring")
            if self.n_repeats is None:
                raise ValueError("a permutation importance gives n_repeats")
            if self.importances is not None:
                if len(self.importances) != n:
                    raise ValueError(f"{n} features but {len(self.importances)} raw rows")
                if n * self.n_repeats > MAX_RAW_VALUES:
                    raise ValueError(f"at most {MAX_RAW_VALUES:,} raw values (features x repeats)")
                if any(len(r) != self.n_repeats for r in self.importances):
                    raise ValueError(f"each feature's raw values hold n_repeats={self.n_repeats}")
        elif self.importances is not None:
            raise ValueError("raw per-repeat values belong to a permutation importance")
        return self
