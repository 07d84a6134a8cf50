"""REST endpoints that close the loop: webhooks (and their delivery log) and the human
review queue (settings, items, answers, agreement, export)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from loopwise.accounts.models import Role
from loopwise.data.models import DatasetVersion
from loopwise.monitoring import review, service, webhooks
from loopwise.monitoring.api import check_after_ingest
from loopwise.monitoring.models import (
    Agreement,
    Delivery,
    QueueStats,
    ReviewItem,
    ReviewSettings,
    Webhook,
    WebhookCreated,
)
from loopwise.monitoring.schemas import (
    ExportIn,
    ReviewIn,
    ReviewSettingsIn,
    WebhookCreate,
    WebhookUpdate,
)
from loopwise.web.deps import Caller, CallerDep

router = APIRouter(prefix="/api/v1", tags=["monitoring"])
HOOKS = "/projects/{key}/webhooks"
REVIEW = "/projects/{key}/monitors/{name}/review"


# --- webhooks ---------------------------------------------------------------------------


@router.post(HOOKS, status_code=201)
def create_webhook(key: str, body: WebhookCreate, caller: CallerDep) -> WebhookCreated:
    """A webhook for the project's monitoring alerts (maintainers). The answer holds the
    signing secret: it is shown this once."""
    with caller.write() as ctx:
        return webhooks.create_webhook(ctx, key, body)


@router.get(HOOKS)
def list_webhooks(key: str, caller: CallerDep) -> list[Webhook]:
    with caller.read() as ctx:
        return webhooks.list_webhooks(ctx, key)


@router.patch(HOOKS + "/{webhook_id}")
def update_webhook(key: str, webhook_id: str, body: WebhookUpdate, caller: CallerDep) -> Webhook:
    with caller.write() as ctx:
        return webhooks.update_webhook(ctx, key, webhook_id, body)


@router.get(HOOKS + "/{webhook_id}/deliveries")
def list_deliveries(
    key: str,
    webhook_id: str,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Delivery]:
    """Deliveries newest first, each with every attempt (status code, error, duration)."""
    with caller.read() as ctx:
        return webhooks.list_deliveries(ctx, key, webhook_id, limit=limit)


# --- the review queue -------------------------------------------------------------------


def _recheck(caller: Caller, key: str, name: str) -> None:
    """An answer changed a label: check its window now (as a labels upload does)."""
    with caller.read() as ctx:
        monitor_id = service.monitor_row(ctx, key, name, Role.VIEWER).id
    check_after_ingest(caller, monitor_id)


@router.get(REVIEW + "/settings")
def review_settings(key: str, name: str, caller: CallerDep) -> ReviewSettings:
    with caller.read() as ctx:
        return review.get_settings(ctx, key, name)


@router.put(REVIEW + "/settings")
def set_review_settings(
    key: str, name: str, body: ReviewSettingsIn, caller: CallerDep
) -> ReviewSettings:
    """Which predictions of later batches go to the queue."""
    with caller.write() as ctx:
        return review.set_settings(ctx, key, name, body)


@router.get(REVIEW + "/items")
def review_items(
    key: str,
    name: str,
    caller: CallerDep,
    state: Literal["waiting", "reviewed", "all"] = "waiting",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ReviewItem]:
    waiting = {"waiting": True, "reviewed": False, "all": None}[state]
    with caller.read() as ctx:
        return review.list_items(ctx, key, name, waiting=waiting, limit=limit)


@router.get(REVIEW + "/next")
def next_item(key: str, name: str, caller: CallerDep) -> ReviewItem | None:
    """The next item for the caller to review (null when the queue is done for them)."""
    with caller.read() as ctx:
        return review.next_item(ctx, key, name)


@router.post(REVIEW + "/items/{item_id}")
def review_item(key: str, name: str, item_id: int, body: ReviewIn, caller: CallerDep) -> ReviewItem:
    """Answer (``label``) or skip an item; an answer sets the prediction's label."""
    with caller.write() as ctx:
        done = review.review(ctx, key, name, item_id, body)
    if not body.skip:
        _recheck(caller, key, name)
    return done


@router.post(REVIEW + "/undo")
def undo(key: str, name: str, caller: CallerDep) -> ReviewItem | None:
    """Take back the caller's latest answer or skip on this monitor."""
    with caller.write() as ctx:
        item = review.undo(ctx, key, name)
    if item is not None:
        _recheck(caller, key, name)
    return item


@router.get(REVIEW + "/stats")
def review_stats(key: str, name: str, caller: CallerDep) -> QueueStats:
    with caller.read() as ctx:
        return review.stats(ctx, key, name)


@router.get(REVIEW + "/agreement")
def agreement(key: str, name: str, caller: CallerDep) -> Agreement:
    """Cohen's kappa between first and second answers of the items answered twice."""
    with caller.read() as ctx:
        return review.agreement(ctx, key, name)


@router.post(REVIEW + "/export", status_code=201)
def export(
    key: str, name: str, body: ExportIn, caller: CallerDep, response: Response
) -> DatasetVersion:
    """The reviewed predictions with their labels as a new dataset version (200 and the
    same version when nothing changed since the last export)."""
    with caller.write() as ctx:
        version, created = review.export(ctx, key, name, body.dataset)
    if not created:
        response.status_code = 200
    return version
