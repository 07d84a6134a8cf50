"""Webhooks: a project's monitoring alerts POSTed to its endpoints as Slack-compatible
JSON, signed with HMAC-SHA256, retried with exponential backoff, every attempt logged.

- **Outbox.** ``on_alert`` (subscribed to ``AlertOpened`` and ``AlertResolved`` in the
  slice declaration) writes one delivery row per active webhook inside the transaction
  that opened or resolved the alert: no alert without its deliveries, no delivery of an
  alert that was rolled back. The body is built then and sent byte for byte.
- **Delivery**, outside any transaction (``deliver_due``: the server's schedule and
  ``loopwise worker``): due deliveries are claimed under a lease (``SELECT ... FOR UPDATE
  SKIP LOCKED`` on PostgreSQL, like the windows), POSTed with no database transaction
  open, and the outcome stored in a second transaction by the lease holder.
- **Signature.** Headers ``X-Loopwise-Timestamp`` (Unix seconds at sending) and
  ``X-Loopwise-Signature: sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>`` keyed
  with the webhook's secret (``sign``; a receiver checks with ``verify``).
- **Retries.** A 2xx answer delivers. Anything else (another status, a refused
  connection, a timeout) is retried after ``backoff``: base x 2^(attempt - 1), so 30 s,
  1 min, 2 min, ... with the default base; after ``LOOPWISE_WEBHOOK_MAX_ATTEMPTS``
  attempts the delivery is ``failed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import AlreadyExists, NotFound
from loopwise.core.ids import new_id
from loopwise.monitoring.models import (
    AlertOpened,
    AlertResolved,
    Attempt,
    Delivery,
    DeliveryState,
    Webhook,
    WebhookCreated,
    WebhookEvent,
)
from loopwise.monitoring.schemas import WebhookCreate, WebhookUpdate
from loopwise.monitoring.tables import (
    AlertRow,
    AttemptRow,
    DeliveryRow,
    MonitorRow,
    WebhookRow,
)
from loopwise.planning.items import service as items
from loopwise.projects import service as projects
from loopwise.web.state import SYSTEM, AppState

log = logging.getLogger("loopwise.monitoring")
CLAIM = 20  # deliveries claimed at once
MAX_DELAY = timedelta(days=1)
ANSWER_CHARS = 300  # of a refusing receiver's answer, kept in the log


# --- pure parts -------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``<timestamp>.<body>`` keyed with the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: int = 300
) -> bool:
    """What a receiver checks: the signature matches (compared in constant time) and the
    timestamp is within ``tolerance`` seconds of its clock (a replayed request is not)."""
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(now - moment) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, moment, body), signature)


def backoff(attempts: int, base: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base x 2^(attempts - 1)."""
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_DELAY)


def after_attempt(
    ok: bool, attempts: int, max_attempts: int, now: datetime, base: float
) -> tuple[DeliveryState, datetime | None]:
    """A delivery's state and next attempt once its ``attempts``-th attempt is done."""
    if ok:
        return DeliveryState.DELIVERED, None
    if attempts >= max_attempts:
        return DeliveryState.FAILED, None
    return DeliveryState.PENDING, now + backoff(attempts, base)


@dataclass(frozen=True)
class AlertFacts:
    event: WebhookEvent
    alert_id: str
    project_key: str
    monitor: str
    check: str
    severity: str
    value: float | None
    threshold: float | None
    window: datetime
    item_key: str | None
    model_version_id: str | None
    result_id: str


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def message(facts: AlertFacts, base_url: str) -> dict[str, Any]:
    """The Slack-compatible body: ``text`` (the fallback line), ``blocks`` (Block Kit),
    and ``loopwise`` (the same facts for programs)."""
    base = base_url.rstrip("/")
    monitor_url = f"{base}/projects/{facts.project_key}/monitors/{facts.monitor}"
    check = facts.check.replace("_", " ")
    opened = facts.event is WebhookEvent.ALERT_OPENED
    head = f"{'Alert' if opened else 'Resolved'}: {check} on monitor {facts.monitor}"
    line = (
        f"[{facts.severity}] {facts.project_key} · {head}: "
        f"{_number(facts.value)} against {_number(facts.threshold)}"
    )
    if facts.item_key:
        line += f"; retraining item {facts.item_key}"
    fields = (
        f"*Project* {facts.project_key} · *Monitor* <{monitor_url}|{facts.monitor}>\n"
        f"*Check* {facts.check} · *Severity* {facts.severity}\n"
        f"*Value* {_number(facts.value)} against {_number(facts.threshold)} · "
        f"window {facts.window:%Y-%m-%d %H:%M} UTC"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fields}},
    ]
    if facts.item_key:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Retraining item <{base}/items/{facts.item_key}|{facts.item_key}>",
                },
            }
        )
    return {
        "text": line,
        "blocks": blocks,
        "loopwise": {
            "event": facts.event.value,
            "alert_id": facts.alert_id,
            "project": facts.project_key,
            "monitor": facts.monitor,
            "check": facts.check,
            "severity": facts.severity,
            "value": facts.value,
            "threshold": facts.threshold,
            "window": facts.window.isoformat(),
            "item": facts.item_key,
            "model_version_id": facts.model_version_id,
            "result_id": facts.result_id,
            "url": monitor_url,
        },
    }


# --- webhooks ---------------------------------------------------------------------------


def _webhook(row: WebhookRow, project_key: str) -> Webhook:
    return Webhook(
        id=row.id,
        project_key=project_key,
        name=row.name,
        url=row.url,
        events=tuple(WebhookEvent(e) for e in row.events),
        active=row.active,
        created_at=row.created_at,
        secret_hint=f"…{row.secret[-4:]}",
    )


def create_webhook(ctx: Context, project_key: str, body: WebhookCreate) -> WebhookCreated:
    """A webhook of the project (maintainers: alerts leave the server). The answer holds
    the secret, this once."""
    project = projects.resolve_project(ctx, project_key, Role.MAINTAINER)
    taken = ctx.session.scalar(
        select(WebhookRow.id).where(
            WebhookRow.project_id == project.id, WebhookRow.name == body.name
        )
    )
    if taken is not None:
        raise AlreadyExists(f"{project.key} already has a webhook {body.name!r}")
    secret = body.secret or f"whsec_{secrets.token_urlsafe(32)}"
    row = WebhookRow(
        id=new_id("whk"),
        project_id=project.id,
        name=body.name,
        url=body.url,
        secret=secret,
        events=[e.value for e in dict.fromkeys(body.events)],
        active=True,
        created_by=ctx.actor.user_id,
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return WebhookCreated(_webhook(row, project.key), secret)


def list_webhooks(ctx: Context, project_key: str) -> list[Webhook]:
    project = projects.resolve_project(ctx, project_key)
    rows = ctx.session.scalars(
        select(WebhookRow).where(WebhookRow.project_id == project.id).order_by(WebhookRow.name)
    )
    return [_webhook(r, project.key) for r in rows]


def _row(ctx: Context, project_key: str, webhook_id: str, needed: Role) -> tuple[WebhookRow, str]:
    project = projects.resolve_project(ctx, project_key, needed)
    row = ctx.session.get(WebhookRow, webhook_id)
    if row is None or row.project_id != project.id:
        raise NotFound(f"{project.key} has no webhook {webhook_id}")
    return row, project.key


def get_webhook(ctx: Context, project_key: str, webhook_id: str) -> Webhook:
    row, key = _row(ctx, project_key, webhook_id, Role.VIEWER)
    return _webhook(row, key)


def update_webhook(ctx: Context, project_key: str, webhook_id: str, body: WebhookUpdate) -> Webhook:
    row, key = _row(ctx, project_key, webhook_id, Role.MAINTAINER)
    if body.url is not None:
        row.url = body.url
    if body.active is not None:
        row.active = body.active
    ctx.session.flush()
    return _webhook(row, key)


def _deliveries(ctx: Context, rows: Sequence[DeliveryRow]) -> list[Delivery]:
    attempts: dict[str, list[Attempt]] = {r.id: [] for r in rows}
    if rows:
        for a in ctx.session.scalars(
            select(AttemptRow)
            .where(AttemptRow.delivery_id.in_(list(attempts)))
            .order_by(AttemptRow.delivery_id, AttemptRow.number)
        ):
            attempts[a.delivery_id].append(
                Attempt(a.number, a.at, a.status_code, a.error, a.duration_ms)
            )
    return [
        Delivery(
            id=r.id,
            webhook_id=r.webhook_id,
            event=WebhookEvent(r.event),
            alert_id=r.alert_id,
            state=DeliveryState(r.state),
            attempts=r.attempts,
            created_at=r.created_at,
            next_attempt_at=r.next_attempt_at,
            delivered_at=r.delivered_at,
            body=r.body,
            log=tuple(attempts[r.id]),
        )
        for r in rows
    ]


def list_deliveries(
    ctx: Context, project_key: str, webhook_id: str, *, limit: int = 100
) -> list[Delivery]:
    """A webhook's deliveries, newest first, each with its log of attempts."""
    row, _key = _row(ctx, project_key, webhook_id, Role.VIEWER)
    rows = ctx.session.scalars(
        select(DeliveryRow)
        .where(DeliveryRow.webhook_id == row.id)
        .order_by(DeliveryRow.created_at.desc(), DeliveryRow.id)
        .limit(limit)
    ).all()
    return _deliveries(ctx, rows)


# --- the outbox: written with the alert -------------------------------------------------


def _base_url(ctx: Context) -> str:
    s = ctx.settings
    return s.public_url or f"http://{s.host}:{s.port}"


def on_alert(ctx: Context, event: AlertOpened | AlertResolved) -> None:
    """Subscribed to AlertOpened and AlertResolved: one delivery per active webhook of the
    project that wants the event, in the publisher's transaction."""
    kind = (
        WebhookEvent.ALERT_OPENED if isinstance(event, AlertOpened) else WebhookEvent.ALERT_RESOLVED
    )
    monitor = ctx.session.get(MonitorRow, event.monitor_id)
    alert = ctx.session.get(AlertRow, event.alert_id)
    if monitor is None or alert is None:
        return
    hooks = [
        w
        for w in ctx.session.scalars(
            select(WebhookRow).where(
                WebhookRow.project_id == monitor.project_id, WebhookRow.active.is_(True)
            )
        )
        if kind.value in w.events
    ]
    if not hooks:
        return
    item_key = items.item_keys(ctx, {alert.item_id}).get(alert.item_id) if alert.item_id else None
    facts = AlertFacts(
        event=kind,
        alert_id=alert.id,
        project_key=event.project_key,
        monitor=monitor.name,
        check=alert.check,
        severity=alert.severity,
        value=alert.value,
        threshold=alert.threshold,
        window=alert.last_window,
        item_key=item_key,
        model_version_id=alert.model_version_id,
        result_id=event.result_id,
    )
    body = json.dumps(message(facts, _base_url(ctx)), ensure_ascii=False, separators=(",", ":"))
    now = ctx.clock.now()
    for hook in hooks:
        ctx.session.add(
            DeliveryRow(
                id=new_id("dlv"),
                webhook_id=hook.id,
                event=kind.value,
                alert_id=alert.id,
                body=body,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    ctx.session.flush()


# --- delivering: outside the transaction ------------------------------------------------


@dataclass(frozen=True)
class Job:
    delivery_id: str
    url: str
    secret: str
    event: str
    body: bytes
    attempt: int  # the number of the attempt about to be made


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def claim(ctx: Context, worker: str, *, limit: int = CLAIM) -> list[Job]:
    now = ctx.clock.now()
    lease = timedelta(seconds=ctx.settings.webhook_timeout_seconds * 2 + 60)
    query = (
        select(DeliveryRow, WebhookRow)
        .join(WebhookRow, WebhookRow.id == DeliveryRow.webhook_id)
        .where(
            DeliveryRow.state == DeliveryState.PENDING.value,
            DeliveryRow.next_attempt_at <= now,
            WebhookRow.active.is_(True),
            or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now),
        )
        .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=DeliveryRow)
    )
    jobs = []
    for delivery, hook in ctx.session.execute(query).all():
        delivery.lease_owner, delivery.lease_until = worker, now + lease
        jobs.append(
            Job(
                delivery.id,
                hook.url,
                hook.secret,
                delivery.event,
                delivery.body.encode(),
                delivery.attempts + 1,
            )
        )
    ctx.session.flush()
    return jobs


def send(job: Job, *, now: datetime, timeout: float) -> Outcome:
    """One POST of the delivery's body, signed at ``now``; never raises."""
    import httpx2 as httpx

    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Loopwise-Webhooks",
        "X-Loopwise-Event": job.event,
        "X-Loopwise-Delivery": job.delivery_id,
        "X-Loopwise-Timestamp": str(timestamp),
        "X-Loopwise-Signature": sign(job.secret, timestamp, job.body),
    }
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as http:
            answer = http.post(job.url, content=job.body, headers=headers)
        took = (time.monotonic() - started) * 1000
        error = "" if answer.is_success else answer.text[:ANSWER_CHARS]
        return Outcome(answer.status_code, error, took)
    except httpx.HTTPError as exc:
        took = (time.monotonic() - started) * 1000
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:ANSWER_CHARS], took)


def record(ctx: Context, job: Job, outcome: Outcome, worker: str, at: datetime) -> bool:
    """Store the attempt and the delivery's new state; False if the lease was lost."""
    delivery = ctx.session.scalar(
        select(DeliveryRow).where(DeliveryRow.id == job.delivery_id).with_for_update()
    )
    if delivery is None or delivery.lease_owner != worker:
        return False
    ctx.session.add(
        AttemptRow(
            delivery_id=delivery.id,
            number=job.attempt,
            at=at,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=round(outcome.duration_ms, 3),
        )
    )
    s = ctx.settings
    state, next_at = after_attempt(
        outcome.ok, job.attempt, s.webhook_max_attempts, at, s.webhook_backoff_seconds
    )
    delivery.attempts = job.attempt
    delivery.state = state.value
    delivery.next_attempt_at = next_at
    delivery.lease_owner, delivery.lease_until = None, None
    if outcome.ok:
        delivery.delivered_at = at
    ctx.session.flush()
    return True


def release(ctx: Context, worker: str) -> int:
    """Give back this worker's leases on deliveries (a clean shutdown)."""
    from sqlalchemy import update

    result = ctx.session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.lease_owner == worker)
        .values(lease_owner=None, lease_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def deliver_due(state: AppState, *, worker: str | None = None, limit: int | None = None) -> int:
    """Send every due delivery (the server's schedule, ``loopwise worker``): claimed and
    stored in transactions of their own, sent with none open. Returns the attempts made."""
    from loopwise.monitoring.jobs import worker_name

    worker = worker or worker_name()
    made = 0
    while limit is None or made < limit:
        with state.context(SYSTEM, write=True) as ctx:
            jobs = claim(ctx, worker, limit=min(CLAIM, limit or CLAIM))
        if not jobs:
            break
        for job in jobs:
            at = state.clock.now()
            outcome = send(job, now=at, timeout=state.settings.webhook_timeout_seconds)
            with state.context(SYSTEM, write=True) as ctx:
                if record(ctx, job, outcome, worker, at):
                    made += 1
            if not outcome.ok:
                log.info("webhook delivery %s: attempt %d failed", job.delivery_id, job.attempt)
    return made
