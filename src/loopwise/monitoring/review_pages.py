"""Pages that close the loop: the review queue (one prediction at a time, plain forms,
keyboard shortcuts from a static script), and a project's webhooks with their delivery
log (the secret shown once, on the page that answers the creation)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.monitoring import review, service, webhooks
from loopwise.monitoring.api import check_after_ingest
from loopwise.monitoring.models import WebhookCreated, WebhookEvent
from loopwise.monitoring.pages import monitor_url
from loopwise.monitoring.schemas import ReviewIn, WebhookCreate, WebhookUpdate
from loopwise.projects import service as projects
from loopwise.web.deps import Caller
from loopwise.web.pages import (
    FormDep,
    PageCaller,
    pick,
    redirect,
    render,
    validation_messages,
)

router = APIRouter(include_in_schema=False)
RECENT = 20


# --- the review queue -------------------------------------------------------------------


def _review_page(
    request: Request,
    caller: Caller,
    key: str,
    name: str,
    *,
    errors: list[str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        monitor = service.get_monitor(ctx, project.key, name)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        item = review.next_item(ctx, project.key, name)
        settings = review.get_settings(ctx, project.key, name)
        stats = review.stats(ctx, project.key, name)
        agreement = review.agreement(ctx, project.key, name)
        recent = review.recently_reviewed(ctx, project.key, name, limit=RECENT)
    return render(
        request,
        "monitoring/review.html",
        {
            "nav": "projects",
            "project": project,
            "monitor": monitor,
            "url": monitor_url(project.key, monitor.name),
            "item": item,
            "settings": settings,
            "stats": stats,
            "agreement": agreement,
            "recent": recent,
            "can_review": role is not None and role.allows(Role.CONTRIBUTOR),
            "errors": errors or [],
            "notice": notice,
        },
        status=status,
    )


@router.get("/projects/{key}/monitors/{name}/review")
def review_page(key: str, name: str, request: Request, caller: PageCaller) -> Response:
    return _review_page(request, caller, key, name)


def _after(caller: Caller, key: str, name: str) -> None:
    with caller.read() as ctx:
        monitor_id = service.monitor_row(ctx, key, name, Role.VIEWER).id
    check_after_ingest(caller, monitor_id)


@router.post("/projects/{key}/monitors/{name}/review/undo")
def undo(key: str, name: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    with caller.write() as ctx:
        item = review.undo(ctx, key, name)
    if item is None:
        return _review_page(request, caller, key, name, notice="Nothing to undo.")
    _after(caller, key, name)
    return redirect(f"{monitor_url(key.upper(), name)}/review")


@router.post("/projects/{key}/monitors/{name}/review/export")
def export(key: str, name: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    try:
        with caller.write() as ctx:
            version, created = review.export(ctx, key, name, form.get("dataset") or None)
    except InvalidInput as exc:
        return _review_page(request, caller, key, name, errors=[exc.message], status=400)
    return redirect(f"/datasets/versions/{version.id}")


@router.post("/projects/{key}/monitors/{name}/review/{item_id}")
def answer(
    key: str, name: str, item_id: int, request: Request, caller: PageCaller, form: FormDep
) -> Response:
    values = pick(form, ("label", "skip"))
    try:
        body = ReviewIn.model_validate(
            {"label": values["label"] or None, "skip": bool(values["skip"])}
        )
    except ValidationError as exc:
        messages = validation_messages(exc, {"label": "Label"})
        return _review_page(request, caller, key, name, errors=messages, status=400)
    try:
        with caller.write() as ctx:
            review.review(ctx, key, name, item_id, body)
    except (InvalidInput, Conflict, NotFound) as exc:
        return _review_page(request, caller, key, name, errors=[exc.message], status=400)
    if not body.skip:
        _after(caller, key, name)
    return redirect(f"{monitor_url(key.upper(), name)}/review")


# --- webhooks ---------------------------------------------------------------------------


def _webhooks_page(
    request: Request,
    caller: Caller,
    key: str,
    *,
    values: dict[str, str] | None = None,
    errors: list[str] | None = None,
    created: WebhookCreated | None = None,
    status: int = 200,
) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        hooks = webhooks.list_webhooks(ctx, project.key)
        recent = {h.id: webhooks.list_deliveries(ctx, project.key, h.id, limit=5) for h in hooks}
    return render(
        request,
        "monitoring/webhooks.html",
        {
            "nav": "projects",
            "project": project,
            "hooks": hooks,
            "recent": recent,
            "created": created,
            "can_manage": role is not None and role.allows(Role.MAINTAINER),
            "role": role,
            "values": values or {"alert_opened": "on", "alert_resolved": "on"},
            "errors": errors or [],
            "form_open": bool(errors) or not hooks,
            "events": list(WebhookEvent),
        },
        status=status,
    )


@router.get("/projects/{key}/webhooks")
def webhooks_page(key: str, request: Request, caller: PageCaller) -> Response:
    return _webhooks_page(request, caller, key)


@router.post("/projects/{key}/webhooks")
def create_webhook(key: str, request: Request, caller: PageCaller, form: FormDep) -> Response:
    """Created: the page answers with the secret, once (no redirect: it is not stored in
    any address or page that could be opened again)."""
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key, Role.MAINTAINER)
    values = pick(form, ("name", "url", "secret", *(e.value for e in WebhookEvent)))
    body: dict[str, Any] = {
        "name": values["name"],
        "url": values["url"],
        "secret": values["secret"] or None,
        "events": [e.value for e in WebhookEvent if values[e.value]],
    }
    labels = {"name": "Name", "url": "URL", "secret": "Secret", "events": "Events"}
    try:
        parsed = WebhookCreate.model_validate(body)
    except ValidationError as exc:
        errors = validation_messages(exc, labels)
        return _webhooks_page(
            request, caller, project.key, values=values, errors=errors, status=400
        )
    try:
        with caller.write() as ctx:
            made = webhooks.create_webhook(ctx, project.key, parsed)
    except (InvalidInput, Conflict) as exc:
        return _webhooks_page(
            request, caller, project.key, values=values, errors=[exc.message], status=400
        )
    return _webhooks_page(request, caller, project.key, created=made, status=201)


@router.post("/projects/{key}/webhooks/{webhook_id}/active")
def set_active(key: str, webhook_id: str, caller: PageCaller, form: FormDep) -> Response:
    with caller.write() as ctx:
        hook = webhooks.update_webhook(
            ctx, key, webhook_id, WebhookUpdate(active=form.get("active") == "true")
        )
    return redirect(f"/projects/{hook.project_key}/webhooks/{hook.id}")


@router.get("/projects/{key}/webhooks/{webhook_id}")
def webhook_page(key: str, webhook_id: str, request: Request, caller: PageCaller) -> Response:
    with caller.read() as ctx:
        project = projects.resolve_project(ctx, key)
        role = accounts.role_in(ctx.session, ctx.actor, project.id)
        hook = webhooks.get_webhook(ctx, project.key, webhook_id)
        deliveries = webhooks.list_deliveries(ctx, project.key, webhook_id, limit=100)
    about = {}
    for d in deliveries:  # what each delivery said, from its own body
        facts = json.loads(d.body).get("loopwise", {})
        about[d.id] = (str(facts.get("check", "")), str(facts.get("monitor", "")))
    return render(
        request,
        "monitoring/webhook.html",
        {
            "nav": "projects",
            "project": project,
            "hook": hook,
            "deliveries": deliveries,
            "about": about,
            "can_manage": role is not None and role.allows(Role.MAINTAINER),
        },
    )
