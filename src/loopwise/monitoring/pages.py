"""Monitor pages: a project's monitors with the form that creates one, and each monitor
with its charts (every check per window against its threshold), the latest window's
columns, batches, alerts and their retraining items, and the review queue's settings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.data import service as data
from loopwise.monitoring import jobs, review, service, webhooks
from loopwise.monitoring.charts import Series, TimeChart, time_chart
from loopwise.monitoring.models import (
    CheckKind,
    Metric,
    Monitor,
    Result,
    Status,
    Window,
)
from loopwise.monitoring.schemas import MonitorCreate, ReviewSettingsIn
from loopwise.numeric.drift import DriftTest
from loopwise.projects import service as projects
from loopwise.registry import service as registry
from loopwise.web.deps import Caller
from loopwise.web.pages import FormDep, PageCaller, pick, redirect, render, submit

router = APIRouter(include_in_schema=False)

SERIES = 200  # windows drawn per chart
COLUMN_CHARTS = 12  # feature columns charted (the table shows every one)
CHECK_TITLES = {
    CheckKind.DATA_DRIFT: "Data drift: share of drifted columns",
    CheckKind.PREDICTION_DRIFT: "Prediction drift",
    CheckKind.PERFORMANCE: "Performance",
    CheckKind.ESTIMATED_PERFORMANCE: "Performance",
    CheckKind.ERROR_RATE: "Error rate",
    CheckKind.LATENCY: "Latency p95",
    CheckKind.MULTIVARIATE_DRIFT: "Multivariate drift: domain classifier ROC AUC",
}
FIELDS = (
    "name",
    "description",
    "target",
    "reference_version_id",
    "window",
    "min_rows",
    "drift_share",
    "score_threshold",
    "metric",
    "overrides",
    *(f"check_{k.value}" for k in CheckKind),
    *(f"threshold_{k.value}" for k in CheckKind),
)
LABELS = {
    "name": "Name",
    "description": "Description",
    "reference_version_id": "Reference dataset version",
    "model": "Model version",
    "model_version": "Model version",
    "window": "Window",
    "min_rows": "Minimum rows",
    "drift_share": "Drift share",
    "score_threshold": "Score threshold",
    "checks": "Checks",
    "overrides": "Column overrides",
    "features": "Columns",
} | {f"threshold_{k.value}": f"Threshold of {k.value}" for k in CheckKind}


def _role(ctx: Context, project_id: str) -> Role | None:
    return accounts.role_in(ctx.session, ctx.actor, project_id)


def _allows(role: Role | None, needed: Role) -> bool:
    return role is not None and role.allows(needed)


def monitor_url(key: str, name: str) -> str:
    from urllib.parse import quote

    return f"/projects/{key}/monitors/{quote(name, safe='')}"


# --- the list and the form --------------------------------------------------------------


def _choices(ctx: Context, key: str) -> dict[str, Any]:
    """Model versions and dataset versions a monitor can watch and compare with."""
    targets = []
    for model in registry.list_models(ctx, key):
        for mv in registry.list_versions(ctx, model.name):
            targets.append(
                (f"{model.name}:{mv.version}", f"{model.name} v{mv.version} ({mv.stage.value})")
            )
    references = []
    for ds in data.list_datasets(ctx, key):
        for v in data.list_versions(ctx, key, ds.name):
            if v.schema:
                references.append((v.id, f"{ds.name} v{v.version} · {v.rows:,} rows"))
    return {"targets": targets, "references": references}


def _monitors_page(
    request: Request,
    caller: Caller,
    key: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = _role(ctx, project.id)
        monitors = service.list_monitors(ctx, project.key)
        open_alerts = service.list_alerts(ctx, project.key, state=None)
        choices = _choices(ctx, project.key)
        hooks = webhooks.list_webhooks(ctx, project.key)
    open_by: dict[str, int] = {}
    for a in open_alerts:
        if a.state.value == "open":
            open_by[a.monitor] = open_by.get(a.monitor, 0) + 1
    defaults = {
        "window": "day",
        "min_rows": "30",
        "drift_share": "0.5",
        "score_threshold": "0.5",
        "metric": "roc_auc",
    } | {f"check_{k.value}": "on" for k in service.DEFAULT_SET}
    return render(
        request,
        "monitoring/monitors.html",
        {
            "nav": "projects",
            "project": project,
            "monitors": monitors,
            "open_by": open_by,
            "hooks": hooks,
            "can_create": _allows(role, Role.CONTRIBUTOR),
            "role": role,
            "values": values if values is not None else defaults,
            "errors": errors or [],
            "form_open": bool(errors) or not monitors,
            "checks": list(CheckKind),
            "metrics": list(Metric),
            "windows": list(Window),
            "reference_names": dict(choices["references"]),
            "tests": ", ".join(t.value for t in DriftTest if t is not DriftTest.DOMAIN_CLASSIFIER),
            **choices,
        },
        status=status,
    )


@router.get("/projects/{key}/monitors")
def monitors_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _monitors_page(request, caller, key)


def _overrides(text: str) -> list[dict[str, Any]]:
    """One ``COLUMN=TEST[:THRESHOLD]`` (or ``COLUMN=:THRESHOLD``) per line."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        column, sep, rest = line.partition("=")
        test, _, threshold = rest.partition(":")
        if not sep or not column.strip():
            raise ValueError(f"line {number}: use COLUMN=TEST or COLUMN=TEST:THRESHOLD")
        out.append(
            {
                "column": column.strip(),
                "test": test.strip() or None,
                "threshold": threshold.strip() or None,
            }
        )
    return out


def _create_body(values: dict[str, str]) -> MonitorCreate:
    """The API's own schema from the form: blank fields are the defaults."""
    model, _, version = values["target"].rpartition(":")
    checks = []
    for kind in CheckKind:
        if values.get(f"check_{kind.value}"):
            check: dict[str, Any] = {"kind": kind.value}
            threshold = values.get(f"threshold_{kind.value}", "")
            if threshold:
                check["threshold"] = threshold
            if kind in (CheckKind.PERFORMANCE, CheckKind.ESTIMATED_PERFORMANCE):
                check["metric"] = values["metric"] or None
            checks.append(check)
    try:
        overrides = _overrides(values["overrides"])
    except ValueError as exc:
        from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

        detail = InitErrorDetails(
            type=PydanticCustomError("value_error", str(exc)), loc=("overrides",), input=""
        )
        raise ValidationError.from_exception_data("MonitorCreate", [detail]) from exc
    body: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "reference_version_id": values["reference_version_id"],
        "model": model or None,
        "model_version": version if model else None,
        "window": values["window"] or "day",
        "min_rows": values["min_rows"] or 30,
        "drift_share": values["drift_share"] or 0.5,
        "score_threshold": values["score_threshold"] or 0.5,
        "checks": checks,
        "overrides": overrides,
    }
    return MonitorCreate.model_validate(body)


def _wording(messages: list[str]) -> list[str]:
    """Nested locations (``checks.0.threshold``) said in the form's words."""
    out = []
    for message in messages:
        label, _, text = message.partition(": ")
        if label.startswith("checks."):
            label = "Checks"
        elif label.startswith("overrides."):
            label = "Column overrides"
        out.append(f"{label}: {text}")
    return out


@router.post("/projects/{key}/monitors")
def create_monitor(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:  # the role first: a viewer gets 403, not a form error
        project = projects.resolve_project(ctx, key, Role.CONTRIBUTOR)
    values = pick(form, FIELDS)

    def create(body: MonitorCreate) -> str:
        with caller.write() as ctx:
            made = service.create_monitor(ctx, project.key, body)
        return monitor_url(project.key, made.name)

    return submit(
        lambda: _create_body(values),
        create,
        lambda errors: _monitors_page(
            request, caller, project.key, values=values, errors=errors, status=400
        ),
        labels=LABELS,
        wording=_wording,
    )


# --- one monitor ------------------------------------------------------------------------


def _check_series(
    monitor: Monitor, results: list[Result], kind: CheckKind
) -> tuple[list[tuple[Any, float | None]], list[tuple[Any, float | None]], list[Any]]:
    values, limits, breached = [], [], []
    for r in results:
        outcome = next((c for c in r.checks if c.kind is kind), None)
        if outcome is None or r.window_start is None:
            continue
        values.append((r.window_start, outcome.value))
        limits.append((r.window_start, outcome.threshold))
        if outcome.status is Status.BREACHED:
            breached.append(r.window_start)
    return values, limits, breached


def charts(monitor: Monitor, results: list[Result]) -> list[TimeChart]:
    """One chart per check the monitor judges (performance: realised and estimated side by
    side), then one per feature column (its statistic against its threshold)."""
    hourly = monitor.window is Window.HOUR
    out: list[TimeChart] = []
    kinds = {c.kind: c for c in monitor.checks}
    for kind in (CheckKind.DATA_DRIFT, CheckKind.MULTIVARIATE_DRIFT, CheckKind.PREDICTION_DRIFT):
        if kind in kinds:
            values, limits, breached = _check_series(monitor, results, kind)
            title = CHECK_TITLES[kind]
            if kind is CheckKind.PREDICTION_DRIFT and results and results[-1].prediction:
                title += f": {results[-1].prediction[0].column} statistic"
            out.append(
                time_chart(
                    title,
                    [Series("value", values)],
                    limits,
                    breached=breached,
                    hourly=hourly,
                    zero=kind is not CheckKind.MULTIVARIATE_DRIFT,  # an AUC lives near 0.5
                )
            )
    performance = kinds.get(CheckKind.PERFORMANCE) or kinds.get(CheckKind.ESTIMATED_PERFORMANCE)
    if performance is not None:
        metric = (performance.metric or Metric.ROC_AUC).value
        realised = [(r.window_start, r.realised.get(metric)) for r in results if r.window_start]
        estimated = [(r.window_start, r.estimated.get(metric)) for r in results if r.window_start]
        _v, limits, breached = _check_series(monitor, results, performance.kind)
        out.append(
            time_chart(
                f"Performance ({metric}): realised and estimated",
                [
                    Series("realised (labels)", realised),
                    Series("estimated (CBPE)", estimated, "s1"),
                ],
                limits,
                breached=breached,
                hourly=hourly,
                zero=False,
            )
        )
    for kind, unit in ((CheckKind.LATENCY, " ms"), (CheckKind.ERROR_RATE, "")):
        if kind in kinds:
            values, limits, breached = _check_series(monitor, results, kind)
            out.append(
                time_chart(
                    CHECK_TITLES[kind],
                    [Series("value", values)],
                    limits,
                    breached=breached,
                    hourly=hourly,
                    unit=unit,
                )
            )
    for spec in monitor.columns[:COLUMN_CHARTS]:
        values, limits, breached = [], [], []
        test = ""
        for r in results:
            column = next((c for c in r.columns if c.column == spec.name), None)
            if column is None or r.window_start is None:
                continue
            test = column.test.value
            values.append((r.window_start, column.statistic))
            limits.append((r.window_start, column.threshold))
            if column.drifted:
                breached.append(r.window_start)
        out.append(
            time_chart(
                f"{spec.name}" + (f": {test}" if test else ""),
                [Series("statistic", values)],
                limits,
                breached=breached,
                hourly=hourly,
            )
        )
    return out


def _monitor_page(
    request: Request,
    caller: Caller,
    key: str,
    name: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        monitor = service.get_monitor(ctx, project.key, name)
        role = _role(ctx, project.id)
        results = service.results(ctx, project.key, name, limit=SERIES)
        batches = service.list_batches(ctx, project.key, name, limit=20)
        alerts = service.list_alerts(ctx, project.key, monitor=name)
        settings = review.get_settings(ctx, project.key, name)
        queue = review.stats(ctx, project.key, name)
        hooks = webhooks.list_webhooks(ctx, project.key)
        reference = data.get_version(ctx, monitor.reference_version_id)
    latest = results[-1] if results else None
    below = settings.confidence_below
    review_values = values or {
        "enabled": "on" if settings.enabled else "",
        "confidence_below": "" if below is None else str(below),
        "sample_rate": str(settings.sample_rate),
        "seed": str(settings.seed),
        "classes": ", ".join(str(c) for c in settings.classes),
        "reviews_per_item": str(settings.reviews_per_item),
    }
    return render(
        request,
        "monitoring/monitor.html",
        {
            "nav": "projects",
            "project": project,
            "monitor": monitor,
            "url": monitor_url(project.key, monitor.name),
            "reference": reference,
            "charts": charts(monitor, results) if results else [],
            "latest": latest,
            "windows": results[::-1][:48],
            "batches": batches,
            "open_alerts": [a for a in alerts if a.state.value == "open"],
            "alerts": alerts,
            "settings": settings,
            "queue": queue,
            "hooks": hooks,
            "can_edit": _allows(role, Role.CONTRIBUTOR),
            "values": review_values,
            "errors": errors or [],
        },
        status=status,
    )


@router.get("/projects/{key}/monitors/{name}")
def monitor_page(key: str, name: str, request: Request, caller: PageCaller) -> Response:
    return _monitor_page(request, caller, key, name)


@router.post("/projects/{key}/monitors/{name}/check")
def check_now(key: str, name: str, caller: PageCaller, form: FormDep) -> Response:
    with caller.read() as ctx:
        row = service.monitor_row(ctx, key, name, Role.CONTRIBUTOR)
        url, monitor_id = monitor_url(key.upper(), row.name), row.id
    jobs.run_pending(caller.state, monitor_id=monitor_id)
    return redirect(url)


REVIEW_FIELDS = (
    "enabled",
    "confidence_below",
    "sample_rate",
    "seed",
    "classes",
    "reviews_per_item",
)
REVIEW_LABELS = {
    "confidence_below": "Confidence below",
    "sample_rate": "Sample rate",
    "seed": "Seed",
    "classes": "Classes",
    "reviews_per_item": "Reviews per item",
}


@router.post("/projects/{key}/monitors/{name}/review-settings")
def review_settings(
    key: str, name: str, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    with caller.read() as ctx:
        name = service.monitor_row(ctx, key, name, Role.CONTRIBUTOR).name
    values = pick(form, REVIEW_FIELDS)
    url = monitor_url(key.upper(), name)

    def parse() -> ReviewSettingsIn:
        classes = [c.strip() for c in values["classes"].replace(",", " ").split() if c.strip()]
        return ReviewSettingsIn.model_validate(
            {
                "enabled": bool(values["enabled"]),
                "confidence_below": values["confidence_below"] or None,
                "sample_rate": values["sample_rate"] or 0,
                "seed": values["seed"] or 0,
                "classes": classes or [0, 1],
                "reviews_per_item": values["reviews_per_item"] or 1,
            }
        )

    def save(body: ReviewSettingsIn) -> str:
        with caller.write() as ctx:
            review.set_settings(ctx, key, name, body)
        return url + "#review"

    return submit(
        parse,
        save,
        lambda errors: _monitor_page(
            request, caller, key, name, values=values, errors=errors, status=400
        ),
        labels=REVIEW_LABELS,
        wording=lambda ms: [m.replace("classes.", "Classes ") for m in ms],
    )
