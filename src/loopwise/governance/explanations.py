"""Explanations: feature importances of a model version on a dataset version.

The server never holds model objects (loading a user's pickle here would run their code),
so the importances are computed where the model is (``Client.explain``: scikit-learn's
permutation importance, SHAP when installed) and kept here, pinned to the model version
and to the dataset version and its content hash, like a fairness audit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.audit import service as audit
from loopwise.core.context import Context
from loopwise.core.errors import InvalidInput
from loopwise.core.ids import new_id
from loopwise.data import service as data
from loopwise.governance.models import Explanation, ExplanationMethod, FeatureImportance
from loopwise.governance.schemas import ExplanationIn
from loopwise.governance.tables import ExplanationRow
from loopwise.projects import service as projects
from loopwise.registry import service as registry
from loopwise.registry.models import ModelVersion


def _explanation(
    ctx: Context, row: ExplanationRow, mv: ModelVersion, project_key: str
) -> Explanation:
    names = accounts.usernames(ctx.session, {row.created_by} if row.created_by else set())
    return Explanation(
        id=row.id,
        project_key=project_key,
        model=mv.model,
        version=mv.version,
        model_version_id=mv.id,
        model_source=row.model_source,
        method=ExplanationMethod(row.method),
        scoring=row.scoring,
        n_repeats=row.n_repeats,
        random_state=row.random_state,
        baseline_score=row.baseline_score,
        rows=row.rows,
        dataset_version_id=row.dataset_version_id or "",
        dataset_hash=row.dataset_hash,
        features=tuple(
            FeatureImportance(
                feature=f["feature"],
                mean=float(f["mean"]),
                std=float(f["std"]),
                raw=tuple(float(x) for x in f.get("raw", ())),
            )
            for f in row.features
        ),
        created_by=names.get(row.created_by or ""),
        created_at=row.created_at,
    )


def record_explanation(ctx: Context, model: str, version: int, body: ExplanationIn) -> Explanation:
    """Keep importances computed by a client for a model version (project contributors);
    the dataset version they were computed on belongs to the same project."""
    mv = registry.get_version(ctx, model, version)
    project_id = registry.version_project_id(ctx, mv.id)
    accounts.require_role(ctx, project_id, Role.CONTRIBUTOR, what=f"model {model!r}")
    project_key = projects.project_by_id(ctx, project_id).key
    dv = data.get_version(ctx, body.dataset_version_id)
    if dv.project_key != project_key:
        raise InvalidInput(f"dataset version {body.dataset_version_id} belongs to another project")
    raw = body.importances or [[] for _ in body.features]
    features = [
        {"feature": name, "mean": mean, "std": std, **({"raw": values} if values else {})}
        for name, mean, std, values in zip(
            body.features, body.importances_mean, body.importances_std, raw, strict=True
        )
    ]
    row = ExplanationRow(
        id=new_id("xpl"),
        project_id=project_id,
        model_version_id=mv.id,
        model_source=(f"run {mv.run_id}" if mv.run_id else mv.source)[:1000],
        method=body.method.value,
        scoring=body.scoring,
        n_repeats=body.n_repeats,
        random_state=body.random_state,
        baseline_score=body.baseline_score,
        rows=body.rows,
        dataset_version_id=dv.id,
        dataset_hash=dv.content_hash,
        features=features,
        created_by=ctx.actor.user_id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(  # the importances themselves go into the chain as a digest
        ctx,
        f"explanation.record:{body.method.value}",
        f"explanation:{row.id}",
        payload={
            "model_version": mv.id,
            "dataset_version": dv.id,
            "dataset_hash": dv.content_hash,
            "features": features,
        },
    )
    return _explanation(ctx, row, mv, project_key)


def _rows(ctx: Context, version_ids: Sequence[str]) -> list[ExplanationRow]:
    """Newest first."""
    if not version_ids:
        return []
    return list(
        ctx.session.scalars(
            select(ExplanationRow)
            .where(ExplanationRow.model_version_id.in_(version_ids))
            .order_by(ExplanationRow.created_at.desc(), ExplanationRow.id.desc())
        )
    )


def list_explanations(ctx: Context, model: str, version: int) -> list[Explanation]:
    """A model version's explanations, newest first (project readers)."""
    mv = registry.get_version(ctx, model, version)
    project_key = projects.project_by_id(ctx, registry.version_project_id(ctx, mv.id)).key
    return [_explanation(ctx, r, mv, project_key) for r in _rows(ctx, [mv.id])]


def _newest_per_method(found: list[Explanation]) -> list[Explanation]:
    seen: set[ExplanationMethod] = set()
    out = []
    for e in found:  # newest first
        if e.method not in seen:
            seen.add(e.method)
            out.append(e)
    return sorted(out, key=lambda e: list(ExplanationMethod).index(e.method))


def latest_explanations(ctx: Context, model: str, version: int) -> list[Explanation]:
    """The newest explanation of each method for a model version (permutation first), for
    the model card and the model page."""
    return _newest_per_method(list_explanations(ctx, model, version))


def latest_by_version(
    ctx: Context, project_key: str, versions: Sequence[ModelVersion]
) -> dict[int, list[Explanation]]:
    """``latest_explanations`` for several versions of one model at once (the model page;
    the caller checked access to the model)."""
    by_id = {v.id: v for v in versions}
    found: dict[int, list[Explanation]] = {}
    for row in _rows(ctx, list(by_id)):
        mv = by_id[row.model_version_id]
        found.setdefault(mv.version, []).append(_explanation(ctx, row, mv, project_key))
    return {v: _newest_per_method(e) for v, e in sorted(found.items(), reverse=True)}
