"""Alerts close the loop: a breached check opens one alert per monitor and check, files
one retraining item on the project's board, and publishes ``AlertOpened``; the first
later window where the check passes resolves it and publishes ``AlertResolved``.

The rule is ``evaluate.decide_alert``; this module does its I/O. The caller holds the
monitor's row lock (``FOR UPDATE`` on PostgreSQL; SQLite has one writer), so two workers
judging two windows of one monitor decide one after the other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from loopwise.core.context import Context
from loopwise.core.ids import new_id
from loopwise.db.insert import insert_missing
from loopwise.monitoring import evaluate
from loopwise.monitoring.evaluate import Action
from loopwise.monitoring.models import (
    AlertOpened,
    AlertResolved,
    AlertState,
    CheckKind,
    CheckOutcome,
    Monitor,
    Scope,
    Status,
)
from loopwise.monitoring.tables import AlertRow, CheckResultRow, MonitorRow, ResultRow
from loopwise.planning.board.models import ColumnCategory
from loopwise.planning.items import service as items
from loopwise.planning.items.models import ItemKind
from loopwise.planning.items.schemas import ItemCreate

LABEL = "monitoring"


def _open_alert(ctx: Context, monitor_id: str, check: CheckKind) -> AlertRow | None:
    return ctx.session.scalar(
        select(AlertRow).where(AlertRow.open_key == f"{monitor_id}:{check.value}")
    )


def _newest_judged(
    ctx: Context, monitor_id: str, check: CheckKind, window: datetime
) -> datetime | None:
    return ctx.session.scalar(
        select(func.max(ResultRow.window_start))
        .join(CheckResultRow, CheckResultRow.result_id == ResultRow.id)
        .where(
            ResultRow.monitor_id == monitor_id,
            ResultRow.scope == Scope.WINDOW.value,
            ResultRow.window_start != window,
            CheckResultRow.check == check.value,
            CheckResultRow.status != Status.UNKNOWN.value,
        )
    )


def _retraining_item(
    ctx: Context, row: MonitorRow, monitor: Monitor, outcome: CheckOutcome, result: ResultRow
) -> str:
    """The monitor's unfinished retraining item (filed by one of its alerts, not yet in a
    done or killed column), else a new one; returns its id. Each alert adds its evidence
    to the item's history."""
    candidates = ctx.session.scalars(
        select(AlertRow.item_id).where(AlertRow.monitor_id == row.id, AlertRow.item_id.is_not(None))
    ).all()
    keys = items.item_keys(ctx, {i for i in candidates if i})
    columns = {c.key: c.category for c in items.columns_of(ctx, row.project_id)}
    finished = (ColumnCategory.DONE, ColumnCategory.KILLED)
    for item_id, key in keys.items():
        if columns.get(items.get_item(ctx, key).status) not in finished:
            item = item_id
            break
    else:
        what = f"{monitor.model} v{monitor.model_version}" if monitor.model else monitor.name
        description = (
            f"Monitor {monitor.name} found {outcome.kind.value} breached "
            f"(severity {outcome.severity.value})"
            + (f" for model {what}" if monitor.model else "")
            + f". Reference dataset version: {monitor.reference_version_id}."
            "\n\nRetrain on recent data, register the new version and promote it through "
            "the promotion checks. Alerts of this monitor add their evidence to this item."
        )
        created = items.add_item_row(
            ctx,
            monitor.project_key,
            ItemCreate(
                kind=ItemKind.RETRAINING,
                title=f"Retrain {what}: {outcome.kind.value.replace('_', ' ')}"[:200],
                description=description,
                labels=[LABEL, f"monitor:{monitor.name}"[:50]],
            ),
            system=True,
        )
        item = created.id
    value = "—" if outcome.value is None else f"{outcome.value:.4g}"
    threshold = "—" if outcome.threshold is None else f"{outcome.threshold:.4g}"
    items.record_event(
        ctx,
        item,
        "evidence",
        None,
        f"alert {outcome.kind.value}"[:200],
        f"monitor {monitor.name}, window {result.window_start:%Y-%m-%d %H:%M} UTC: "
        f"{value} against {threshold} ({outcome.detail}); result {result.id}",
        system=True,
    )
    return item


def apply(
    ctx: Context, row: MonitorRow, monitor: Monitor, result: ResultRow
) -> list[AlertOpened | AlertResolved]:
    """Open, update or resolve the monitor's alerts after a window result; returns the
    events published."""
    assert result.window_start is not None
    window = result.window_start
    outcomes = ctx.session.scalars(
        select(CheckResultRow).where(CheckResultRow.result_id == result.id)
    ).all()
    published: list[AlertOpened | AlertResolved] = []
    now = ctx.clock.now()
    for stored in outcomes:
        kind, status = CheckKind(stored.check), Status(stored.status)
        current = _open_alert(ctx, row.id, kind)
        action = evaluate.decide_alert(
            status,
            window,
            open_since=current.first_window if current else None,
            open_last=current.last_window if current else None,
            newest_judged=_newest_judged(ctx, row.id, kind, window),
        )
        outcome = CheckOutcome(
            kind,
            status,
            stored.value,
            stored.threshold,
            next(c.severity for c in monitor.checks if c.kind is kind),
            stored.detail,
        )
        if action is Action.OPEN:
            alert_id = new_id("alr")
            opened = insert_missing(
                ctx.session,
                AlertRow,
                {
                    "id": alert_id,
                    "monitor_id": row.id,
                    "check": kind.value,
                    "open_key": f"{row.id}:{kind.value}",
                    "severity": outcome.severity.value,
                    "state": AlertState.OPEN.value,
                    "opened_at": now,
                    "resolved_at": None,
                    "first_window": window,
                    "last_window": window,
                    "value": stored.value,
                    "threshold": stored.threshold if stored.threshold is not None else 0.0,
                    "windows_breached": 1,
                    "item_id": None,
                    "model_version_id": row.model_version_id,
                    "opened_result_id": result.id,
                    "last_result_id": result.id,
                    "resolved_result_id": None,
                    "detail": stored.detail,
                },
            )
            if not opened:  # a concurrent writer opened it first (guarded by open_key)
                continue
            alert = ctx.session.get(AlertRow, alert_id)
            assert alert is not None
            alert.item_id = _retraining_item(ctx, row, monitor, outcome, result)
            item_key = items.item_keys(ctx, {alert.item_id}).get(alert.item_id)
            event: AlertOpened | AlertResolved = AlertOpened(
                alert_id=alert.id,
                monitor_id=row.id,
                project_key=monitor.project_key,
                check=kind,
                severity=outcome.severity,
                item_key=item_key,
                model_version_id=row.model_version_id,
                result_id=result.id,
            )
            ctx.publish(event)
            published.append(event)
        elif action is Action.UPDATE and current is not None:
            if window != current.last_window:
                current.windows_breached += 1
            current.last_window = window
            current.value = stored.value
            current.last_result_id = result.id
            current.detail = stored.detail
        elif action is Action.RESOLVE and current is not None:
            current.state = AlertState.RESOLVED.value
            current.open_key = None
            current.resolved_at = now
            current.resolved_result_id = result.id
            event = AlertResolved(
                alert_id=current.id,
                monitor_id=row.id,
                project_key=monitor.project_key,
                check=kind,
                result_id=result.id,
            )
            ctx.publish(event)
            published.append(event)
    ctx.session.flush()
    return published
