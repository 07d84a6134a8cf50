"""The fairness audits page of a model version: every audit with its per-group table, the
between-group measures with their bootstrap intervals, the four-fifths rule, small-group
warnings and the pinned dataset version; and the form that runs a new audit (the API's
``AuditIn``, the same use case)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.data import service as data
from loopwise.data.models import DatasetVersion
from loopwise.governance import audits
from loopwise.governance.schemas import AuditIn
from loopwise.numeric import fairness
from loopwise.projects import service as projects
from loopwise.registry import service as registry
from loopwise.web.deps import Caller
from loopwise.web.pages import FormDep, PageCaller, pick, render, submit

router = APIRouter(include_in_schema=False)

FIELDS = (
    "dataset_version_id",
    "label_col",
    "prediction_col",
    "sensitive_cols",
    "bootstrap",
    "min_group_size",
    "primary_measure",
    "justification",
)
LABELS = {
    "dataset_version_id": "Dataset version",
    "label_col": "Label column",
    "prediction_col": "Prediction column",
    "sensitive_cols": "Sensitive features",
    "bootstrap": "Bootstrap replicates",
    "min_group_size": "Minimum group size",
    "primary_measure": "Primary measure",
    "justification": "Justification",
}
# the per-group columns, in the order of the table
RATES = (
    ("selection_rate", "Selection rate"),
    ("accuracy", "Accuracy"),
    ("true_positive_rate", "TPR"),
    ("false_positive_rate", "FPR"),
    ("false_negative_rate", "FNR"),
    ("precision", "Precision"),
)


def _url(model: str, version: int) -> str:
    return f"/models/{quote(model, safe='')}/versions/{version}/audits"


def _dataset_versions(ctx: Context, project_key: str) -> list[DatasetVersion]:
    """The project's dataset versions, newest first: what an audit may run on."""
    found = [
        v
        for ds in data.list_datasets(ctx, project_key)
        for v in data.list_versions(ctx, project_key, ds.name)
    ]
    return sorted(found, key=lambda v: v.created_at, reverse=True)


def _page(
    request: Request,
    caller: Caller,
    name: str,
    version: int,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        mv = registry.get_version(ctx, name, version)
        project = projects.project_by_id(ctx, registry.version_project_id(ctx, mv.id))
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        found = audits.list_audits(ctx, mv.model, mv.version)
        choices = _dataset_versions(ctx, project.key)
    columns = sorted({c for v in choices for c, _ in v.schema})
    catalogue = fairness.measure_catalogue()
    return render(
        request,
        "governance/audits.html",
        {
            "nav": "projects",
            "project": project,
            "mv": mv,
            "audits": found,
            "choices": choices,
            "columns": columns,
            "catalogue": catalogue,
            "kinds": {m.name: m.kind for m in catalogue},
            "rates": RATES,
            "can_run": role is not None and role.allows(Role.CONTRIBUTOR),
            "values": values or {"bootstrap": "1000", "min_group_size": "30"},
            "errors": errors or [],
        },
        status=status,
    )


@router.get("/models/{name}/versions/{version}/audits")
def audits_page(name: str, version: int, request: Request, caller: PageCaller) -> Response:
    return _page(request, caller, name, version)


def _body(values: dict[str, str]) -> dict[str, Any]:
    """The form's text as the API's body: sensitive features comma separated, blank
    numbers left to their defaults."""
    raw: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    raw["sensitive_cols"] = [c.strip() for c in values["sensitive_cols"].split(",") if c.strip()]
    return raw


@router.post("/models/{name}/versions/{version}/audits")
def run_audit(
    name: str, version: int, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    values = pick(form, FIELDS)
    with caller.read() as ctx:  # the role check first: a viewer gets 403, not a form error
        mv = registry.get_version(ctx, name, version)
        accounts.require_role(
            ctx, registry.version_project_id(ctx, mv.id), Role.CONTRIBUTOR, what="model"
        )

    def act(body: AuditIn) -> str:
        with caller.write() as ctx:
            record = audits.run_audit(
                ctx,
                mv.model,
                mv.version,
                body.dataset_version_id,
                body.label_col,
                body.prediction_col,
                body.sensitive_cols,
                primary_measure=body.primary_measure,
                justification=body.justification,
                min_group_size=body.min_group_size,
                bootstrap=body.bootstrap,
            )
        return _url(mv.model, mv.version) + f"#{record.id}"

    return submit(
        lambda: AuditIn.model_validate(_body(values)),
        act,
        lambda errors: _page(
            request, caller, mv.model, mv.version, values=values, errors=errors, status=400
        ),
        labels=LABELS,
    )
