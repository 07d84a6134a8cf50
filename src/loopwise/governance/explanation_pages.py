"""Governance's sections of other slices' pages (declared in governance.SLICE): the
explanations of a registered model's versions on the model page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from loopwise.core.context import Context
from loopwise.core.errors import NotFound, PermissionDenied
from loopwise.data import service as data
from loopwise.governance import explanations
from loopwise.governance.charts import importance_bars
from loopwise.governance.models import Explanation, ExplanationMethod
from loopwise.registry.models import ModelVersion, RegisteredModel
from loopwise.web.pages import Panel

TOP = 15  # features drawn at first; the rest behind "show all"
ALL = 300  # at most this many in "show all" (the API and the CLI give every one)


@dataclass(frozen=True)
class Shown:
    """One explanation as the panel shows it."""

    explanation: Explanation
    measure: str
    dataset_label: str  # "churn v3", or the id when the version is gone or hidden
    top: Markup
    all: Markup | None  # None when TOP covers every feature
    hidden: int  # features past ALL, in neither chart


def _measure(e: Explanation) -> str:
    if e.method is ExplanationMethod.SHAP:
        return "mean |SHAP value|"
    return f"drop in {e.scoring or 'score'}"


def _dataset_label(ctx: Context, version_id: str) -> str:
    if not version_id:
        return "deleted dataset version"
    try:
        dv = data.get_version(ctx, version_id)
    except (NotFound, PermissionDenied):
        return version_id
    return f"{dv.dataset} v{dv.version}"


def _shown(ctx: Context, e: Explanation) -> Shown:
    ranked = e.ranked
    measure = _measure(e)
    return Shown(
        explanation=e,
        measure=measure,
        dataset_label=_dataset_label(ctx, e.dataset_version_id),
        top=importance_bars(ranked[:TOP], measure=measure),
        all=importance_bars(ranked[:ALL], measure=measure) if len(ranked) > TOP else None,
        hidden=max(len(ranked) - ALL, 0),
    )


def explanations_panel(
    ctx: Context, model: RegisteredModel, versions: Sequence[ModelVersion]
) -> Panel | None:
    """The newest explanation of each method for each version that has one (the model
    page checked access to the model)."""
    found = explanations.latest_by_version(ctx, model.project_key, versions)
    if not found:
        return None
    shown = {v: [_shown(ctx, e) for e in es] for v, es in found.items()}
    return Panel("governance/explanations_panel.html", {"versions": shown, "model": model})
