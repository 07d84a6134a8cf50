"""Server-rendered pages for datasets: the project's datasets with an upload form, a
version's profile, quality, expectations, ownership and leakage, and the readiness
report with its Markdown and standalone HTML exports."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.data import io, service
from loopwise.data.api import register_upload, spooled
from loopwise.data.models import DataFormat, DatasetVersion, PersonalData, Readiness
from loopwise.data.schemas import MetaIn
from loopwise.projects import service as projects
from loopwise.tracking import service as tracking
from loopwise.tracking.models import Run
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    Panel,
    check_origin,
    pick,
    redirect,
    render,
    validation_messages,
)
from loopwise.web.security import DOWNLOAD_CSP, download_headers

router = APIRouter(include_in_schema=False)
EXPORT_CSP = f"{DOWNLOAD_CSP}; style-src 'unsafe-inline'"

UPLOAD_FIELDS = (
    "name",
    "owner",
    "licence",
    "source",
    "legal_basis",
    "residency",
    "retention_until",
    "personal_data",
)
META_LABELS = {
    "owner": "Owner",
    "licence": "Licence",
    "source": "Source",
    "legal_basis": "Legal basis",
    "residency": "Residency",
    "retention_until": "Retention until",
    "personal_data": "Personal data",
}
LEAKAGE_FIELDS = ("other", "direction", "label", "id_columns")
MAX_CANDIDATES = 200
FLAG_NAMES = ", ".join(f.value for f in PersonalData)


# --- helpers shared by the templates -----------------------------------------------------


def describe(expectation: dict[str, Any]) -> str:
    """``{"column": "age", "min": 0}`` -> ``age: min 0``; rules as written."""
    if "rule" in expectation:
        return str(expectation["rule"])
    rest = ", ".join(f"{k} {v}" for k, v in expectation.items() if k != "column")
    return f"{expectation.get('column')}: {rest}" if rest else str(expectation.get("column"))


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: pipes and backslashes escaped, one line,
    and no raw HTML (``<`` escaped)."""
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<")
    return " ".join(text.split())


def _filename(version: DatasetVersion, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", version.dataset).strip("-") or "dataset"
    return f"{stem}-v{version.version}-readiness.{suffix}"


def _helpers() -> dict[str, Any]:
    return {"describe": describe, "flag_names": [f.value for f in PersonalData]}


# --- the datasets of a project -----------------------------------------------------------


def _datasets_page(
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
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        datasets = service.list_datasets(ctx, project.key)
        latest = service.latest_versions(ctx, project.key)
    return render(
        request,
        "data/datasets.html",
        {
            "nav": "projects",
            "project": project,
            "rows": [(d, latest.get(d.id)) for d in datasets],
            "can_upload": role is not None and role.allows(Role.CONTRIBUTOR),
            "role": role,
            "values": values or {},
            "errors": errors or [],
            "form_open": bool(errors) or not datasets,
            **_helpers(),
        },
        status=status,
    )


@router.get("/projects/{key}/datasets")
def datasets_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _datasets_page(request, caller, key)


def _personal_data(text: str) -> tuple[dict[str, list[str]], list[str]]:
    """``column: flag[, flag]`` lines -> {column: [flags]}, with one message per bad line."""
    flags: dict[str, list[str]] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        column, sep, rest = line.partition(":")
        column = column.strip()
        names = [f.strip().lower() for f in rest.split(",") if f.strip()]
        if not sep or not column or not names:
            errors.append(f"Personal data, line {number}: write column:flag, e.g. email:sensitive")
            continue
        for name in names:
            if name not in {f.value for f in PersonalData}:
                errors.append(
                    f"Personal data, line {number}: {name!r} is not a flag; use {FLAG_NAMES}"
                )
            elif name not in flags.setdefault(column, []):
                flags[column].append(name)
    return flags, errors


def _upload_meta(values: dict[str, str]) -> tuple[MetaIn | None, list[str]]:
    personal, errors = _personal_data(values["personal_data"])
    retention: date | None = None
    if values["retention_until"]:
        try:
            retention = date.fromisoformat(values["retention_until"])
        except ValueError:
            errors.append(
                f"Retention until: {values['retention_until']!r} is not a date (use YYYY-MM-DD)"
            )
    raw = {
        "owner": values["owner"],
        "licence": values["licence"],
        "source": values["source"],
        "legal_basis": values["legal_basis"],
        "residency": values["residency"],
        "retention_until": retention,
        "personal_data": personal,
    }
    try:
        meta = MetaIn.model_validate(raw)
    except ValidationError as exc:
        return None, errors + validation_messages(exc, META_LABELS)
    return (None if errors else meta), errors


def _upload_file(upload: object) -> tuple[UploadFile | None, DataFormat | None, str | None]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None, None, "File: choose a CSV or Parquet file"
    try:
        fmt = io.detect_format(Path(upload.filename))
    except InvalidInput:
        return None, None, f"File: {upload.filename} is not a .csv or .parquet file"
    if fmt is DataFormat.DVC:
        return None, None, "File: register .dvc files with the SDK or CLI (register_dvc)"
    return upload, fmt, None


def _require(caller: Caller, key: str, needed: Role) -> str:
    with caller.read() as ctx:
        return projects.resolve_project(ctx, key, needed).key


@router.post("/projects/{key}/datasets")
async def upload_dataset(key: str, request: Request, caller: PageCaller) -> Response:
    """The upload form: a file and its metadata -> a new version (or the identical one)."""
    check_origin(request)
    # The role check first: a viewer gets 403, not a form error.
    project_key = await run_in_threadpool(_require, caller, key, Role.CONTRIBUTOR)
    async with request.form() as form:
        values = {
            name: value.strip() if isinstance(value := form.get(name), str) else ""
            for name in UPLOAD_FIELDS
        }
        upload, fmt, problem = _upload_file(form.get("file"))
        errors = [problem] if problem else []
        if upload is not None and not values["name"]:
            values["name"] = Path(upload.filename or "").stem
        if not values["name"] and not problem:
            errors.append("Dataset name: required")
        elif len(values["name"]) > 200:
            errors.append("Dataset name: at most 200 characters")
        meta, meta_errors = _upload_meta(values)
        errors += meta_errors
        if errors or upload is None or fmt is None or meta is None:
            return await run_in_threadpool(
                lambda: _datasets_page(
                    request, caller, project_key, values=values, errors=errors, status=400
                )
            )
        spooled_name = ""
        try:
            async with spooled(caller, upload, fmt) as tmp:
                spooled_name = tmp.name
                registered = await run_in_threadpool(
                    register_upload, caller, project_key, values["name"], tmp, meta.to_meta(), fmt
                )
        except (InvalidInput, Conflict) as exc:
            # Messages name the temporary copy; people know the file by its own name.
            text = exc.message.replace(spooled_name, upload.filename or "the file")
            message = f"{text} (choose the file again)" if spooled_name else exc.message
            status = exc.http_status
            return await run_in_threadpool(
                lambda: _datasets_page(
                    request, caller, project_key, values=values, errors=[message], status=status
                )
            )
    target = f"/datasets/versions/{registered.version.id}"
    return redirect(target if registered.created else f"{target}?notice=identical")


# --- one version -------------------------------------------------------------------------


def _version_page(
    request: Request,
    caller: Caller,
    version_id: str,
    *,
    notice: str | None = None,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        version = service.get_version(ctx, version_id)
        project = projects.resolve_project(ctx, version.project_key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        checks = service.leakage_checks(ctx, version.id)
        uses = service.runs_using(ctx, version.id)
        runs = {r.id: r for r in tracking.runs_by_ids(ctx, [u.run_id for u in uses])}
        siblings = service.list_versions(ctx, project.key, version.dataset)
        candidates = [
            v
            for d in service.list_datasets(ctx, project.key)
            for v in service.list_versions(ctx, project.key, d.name)
            if v.id != version.id
        ][:MAX_CANDIDATES]
        panels = [p for panel in ctx.hooks.dataset_panels if (p := panel(ctx, version))]
    names = {v.id: f"{v.dataset} v{v.version}" for v in [*candidates, *siblings]}
    return render(
        request,
        "data/version.html",
        {
            "nav": "projects",
            "project": project,
            "v": version,
            "notice": notice,
            "checks": checks,
            "uses": [(u, runs.get(u.run_id)) for u in uses],
            "siblings": siblings,
            "candidates": candidates,
            "names": names,
            "panels": panels,
            "can_check": role is not None and role.allows(Role.CONTRIBUTOR),
            "values": values or {"direction": "eval"},
            "errors": errors or [],
            **_helpers(),
        },
        status=status,
    )


@router.get("/datasets/versions/{version_id}")
def version_page(
    version_id: str, request: Request, caller: PageCaller, notice: str | None = None
) -> Response:
    return _version_page(
        request, caller, version_id, notice="identical" if notice == "identical" else None
    )


@router.post("/datasets/versions/{version_id}/leakage")
def run_leakage_check(
    version_id: str, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    values = pick(form, LEAKAGE_FIELDS)
    with caller.read() as ctx:
        version = service.get_version(ctx, version_id)
        projects.resolve_project(ctx, version.project_key, Role.CONTRIBUTOR)
    columns = {name for name, _ in version.schema}
    ids = [c.strip() for c in values["id_columns"].split(",") if c.strip()]
    errors = []
    if not values["other"]:
        errors.append("Compare with: choose another dataset version")
    if values["direction"] not in ("train", "eval"):
        errors.append("This version is: choose training or evaluation data")
    if values["label"] and values["label"] not in columns:
        errors.append(f"Label column: {values['label']!r} is not a column of this version")
    unknown = [c for c in ids if c not in columns]
    if unknown:
        errors.append(f"Id columns: not columns of this version: {', '.join(unknown)}")
    if len(ids) > 20:
        errors.append("Id columns: at most 20")
    if not errors:
        train, test = (
            (version.id, values["other"])
            if values["direction"] == "train"
            else (values["other"], version.id)
        )
        try:
            with caller.write() as ctx:
                service.check_leakage(
                    ctx, train, test, label=values["label"] or None, id_columns=ids
                )
        except (InvalidInput, Conflict) as exc:
            errors.append(exc.message)
        except NotFound:
            errors.append("Compare with: no such dataset version in this project")
    if errors:
        return _version_page(request, caller, version.id, values=values, errors=errors, status=400)
    return redirect(f"/datasets/versions/{version.id}#leakage")


# --- readiness ---------------------------------------------------------------------------


def readiness_context(
    ctx: Context, version_id: str, now: datetime
) -> tuple[Readiness, dict[str, Any]]:
    """The readiness report and what its page and exports show."""
    report = service.readiness(ctx, version_id)
    project = projects.resolve_project(ctx, report.version.project_key)
    ids = {c.train_version_id for c in report.leakage} | {c.eval_version_id for c in report.leakage}
    names = {}
    for other in ids:
        found = service.get_version(ctx, other)
        names[other] = f"{found.dataset} v{found.version}"
    v = report.version
    context = {
        "project": project,
        "r": report,
        "v": v,
        "names": names,
        "failed": [e for e in v.expectations if not e.passed],
        "flags": [f for c in report.leakage for f in c.report.flags],
        "generated": now,
        **_helpers(),
    }
    return report, context


def readiness_markdown_text(env: Environment, context: dict[str, Any]) -> str:
    # .md templates are not autoescaped (Jinja's select_autoescape); md_cell escapes cells.
    return env.get_template("data/readiness_export.md").render(md=md_cell, **context)


def readiness_html_text(env: Environment, context: dict[str, Any]) -> str:
    return env.get_template("data/readiness_export.html").render(**context)


def _readiness(caller: Caller, version_id: str) -> tuple[Readiness, dict[str, Any]]:
    with caller.read() as ctx:
        return readiness_context(ctx, version_id, caller.state.clock.now())


@router.get("/datasets/versions/{version_id}/readiness")
def readiness_page(version_id: str, request: Request, caller: PageCaller) -> Response:
    _, context = _readiness(caller, version_id)
    return render(request, "data/readiness.html", {"nav": "projects", **context})


@router.get("/datasets/versions/{version_id}/readiness.md")
def readiness_markdown(version_id: str, request: Request, caller: PageCaller) -> Response:
    report, context = _readiness(caller, version_id)
    text = readiness_markdown_text(request.app.state.templates.env, context)
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers=download_headers(_filename(report.version, "md")),
    )


@router.get("/datasets/versions/{version_id}/readiness.html")
def readiness_html(version_id: str, request: Request, caller: PageCaller) -> Response:
    report, context = _readiness(caller, version_id)
    response = HTMLResponse(readiness_html_text(request.app.state.templates.env, context))
    # A download, not a page of this site: saved, and sandboxed should a browser render
    # it anyway (its own inline <style> is all it needs).
    response.headers.update(download_headers(_filename(report.version, "html"), csp=EXPORT_CSP))
    return response


def run_panel(ctx: Context, run: Run) -> Panel | None:
    """The datasets a run used, with their leakage flags, on the run's page (declared in
    data.SLICE; the run page has checked access to the run)."""
    datasets = service.datasets_of_runs(ctx, [run.id])
    if not datasets:
        return None
    checks = {u.version_id: service.leakage_checks(ctx, u.version_id) for u in datasets}
    flags = {  # None: no leakage check has looked at this version
        v: sorted({f for c in found for f in c.report.flags}) if found else None
        for v, found in checks.items()
    }
    return Panel("data/run_panel.html", {"datasets": datasets, "leakage_flags": flags})
