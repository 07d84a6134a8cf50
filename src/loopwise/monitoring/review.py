"""The human review queue: reviewers confirm or correct the predictions chosen at ingest
(``monitoring.queue``), one at a time.

- An answer sets the prediction's label, as the labels API does, so its window is
  checked again: reviewed predictions count as labels for performance monitoring. The
  label is the latest answer's; undoing every answer restores the label the prediction
  had when it entered the queue.
- An item waits until it has ``reviews_per_item`` answers (1 or 2); a reviewer answers
  or skips an item once, and sees next the oldest item they have not answered or
  skipped. Undo takes back the reviewer's latest answer or skip on the monitor.
- Items answered twice give Cohen's kappa between first and second answers
  (``numeric.agreement``).
- An export writes the answered items (features, prediction, score, label) as a new
  version of a dataset in the data slice: the corrections, ready for retraining.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select, update

from loopwise.accounts import service as accounts
from loopwise.accounts.models import Role
from loopwise.core.context import Context
from loopwise.core.errors import Conflict, InvalidInput, NotFound
from loopwise.data import service as data
from loopwise.data.models import DatasetVersion, VersionMeta
from loopwise.monitoring import queue
from loopwise.monitoring.ingest import touch_windows
from loopwise.monitoring.models import (
    Agreement,
    QueueStats,
    ReviewAction,
    ReviewItem,
    ReviewReason,
    ReviewSettings,
    ReviewVote,
    Window,
)
from loopwise.monitoring.schemas import ReviewIn, ReviewSettingsIn
from loopwise.monitoring.service import monitor_row
from loopwise.monitoring.tables import (
    MonitorRow,
    PredictionRow,
    ReviewItemRow,
    ReviewRow,
    ReviewSettingsRow,
)
from loopwise.numeric.agreement import cohen_kappa

EXPORT_LIMIT = 1_000_000  # reviewed items written by one export


# --- settings ---------------------------------------------------------------------------


def get_settings(ctx: Context, project_key: str, name: str) -> ReviewSettings:
    return queue.settings_of(ctx, monitor_row(ctx, project_key, name, Role.VIEWER).id)


def set_settings(
    ctx: Context, project_key: str, name: str, body: ReviewSettingsIn
) -> ReviewSettings:
    """Which predictions later batches send to the queue (items already there stay)."""
    row = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    stored = ctx.session.get(ReviewSettingsRow, row.id)
    if stored is None:
        stored = ReviewSettingsRow(monitor_id=row.id)
        ctx.session.add(stored)
    stored.enabled = body.enabled
    stored.confidence_below = body.confidence_below
    stored.sample_rate = body.sample_rate
    stored.seed = body.seed
    stored.classes = list(body.classes)
    stored.reviews_per_item = body.reviews_per_item
    stored.updated_at = ctx.clock.now()
    ctx.session.flush()
    return queue.settings_of(ctx, row.id)


# --- reading ----------------------------------------------------------------------------


def _model_label(row: ReviewItemRow, threshold: float) -> int | None:
    if row.prediction is not None:
        try:
            value = float(row.prediction)
        except ValueError:
            return None
        return int(value) if value.is_integer() else None
    if row.score is not None:
        return int(row.score >= threshold)
    return None


def _items(ctx: Context, monitor: MonitorRow, rows: Sequence[ReviewItemRow]) -> list[ReviewItem]:
    ids = [r.id for r in rows]
    votes: dict[int, list[ReviewVote]] = {i: [] for i in ids}
    labels: dict[str, float | None] = {}
    if rows:
        found = ctx.session.scalars(
            select(ReviewRow).where(ReviewRow.item_id.in_(ids)).order_by(ReviewRow.id)
        ).all()
        names = accounts.usernames(ctx.session, {v.reviewer_id for v in found})
        for v in found:
            votes[v.item_id].append(
                ReviewVote(
                    names.get(v.reviewer_id, v.reviewer_id), ReviewAction(v.action), v.label, v.at
                )
            )
        found_labels = ctx.session.execute(
            select(PredictionRow.prediction_id, PredictionRow.label).where(
                PredictionRow.monitor_id == monitor.id,
                PredictionRow.prediction_id.in_([r.prediction_id for r in rows]),
            )
        ).all()
        labels = {pid: label for pid, label in found_labels if pid is not None}
    out = []
    for r in rows:
        conf = None if r.score is None else float(max(r.score, 1 - r.score))
        out.append(
            ReviewItem(
                id=r.id,
                monitor_id=r.monitor_id,
                prediction_id=r.prediction_id,
                at=r.at,
                prediction=r.prediction,
                score=r.score,
                model_label=_model_label(r, monitor.score_threshold),
                confidence=conf,
                reason=ReviewReason(r.reason),
                features=dict(r.features),
                label=labels.get(r.prediction_id),
                votes=tuple(votes[r.id]),
            )
        )
    return out


def _needed(ctx: Context, monitor_id: str) -> int:
    return queue.settings_of(ctx, monitor_id).reviews_per_item


def next_item(ctx: Context, project_key: str, name: str) -> ReviewItem | None:
    """The oldest item still waiting that the calling reviewer has not answered or skipped."""
    monitor = monitor_row(ctx, project_key, name, Role.VIEWER)
    mine = exists().where(
        ReviewRow.item_id == ReviewItemRow.id, ReviewRow.reviewer_id == ctx.actor.user_id
    )
    row = ctx.session.scalar(
        select(ReviewItemRow)
        .where(
            ReviewItemRow.monitor_id == monitor.id,
            ReviewItemRow.reviews < _needed(ctx, monitor.id),
            ~mine,
        )
        .order_by(ReviewItemRow.id)
        .limit(1)
    )
    return _items(ctx, monitor, [row])[0] if row is not None else None


def list_items(
    ctx: Context,
    project_key: str,
    name: str,
    *,
    waiting: bool | None = None,
    limit: int = 100,
) -> list[ReviewItem]:
    """Items newest first: those still waiting (``waiting=True``), those with every
    review they need (False), or all."""
    monitor = monitor_row(ctx, project_key, name, Role.VIEWER)
    query = select(ReviewItemRow).where(ReviewItemRow.monitor_id == monitor.id)
    needed = _needed(ctx, monitor.id)
    if waiting is True:
        query = query.where(ReviewItemRow.reviews < needed)
    elif waiting is False:
        query = query.where(ReviewItemRow.reviews >= needed)
    rows = ctx.session.scalars(query.order_by(ReviewItemRow.id.desc()).limit(limit)).all()
    return _items(ctx, monitor, rows)


def recently_reviewed(
    ctx: Context, project_key: str, name: str, *, limit: int = 20
) -> list[ReviewItem]:
    """Items with an answer or a skip, the most recently reviewed first."""
    monitor = monitor_row(ctx, project_key, name, Role.VIEWER)
    latest = (
        select(ReviewRow.item_id, func.max(ReviewRow.id).label("last"))
        .join(ReviewItemRow, ReviewItemRow.id == ReviewRow.item_id)
        .where(ReviewItemRow.monitor_id == monitor.id)
        .group_by(ReviewRow.item_id)
        .subquery()
    )
    rows = ctx.session.scalars(
        select(ReviewItemRow)
        .join(latest, latest.c.item_id == ReviewItemRow.id)
        .order_by(latest.c.last.desc())
        .limit(limit)
    ).all()
    return _items(ctx, monitor, rows)


def get_item(ctx: Context, project_key: str, name: str, item_id: int) -> ReviewItem:
    monitor = monitor_row(ctx, project_key, name, Role.VIEWER)
    return _items(ctx, monitor, [_item_row(ctx, monitor, item_id)])[0]


def _item_row(ctx: Context, monitor: MonitorRow, item_id: int) -> ReviewItemRow:
    row = ctx.session.get(ReviewItemRow, item_id) if 0 < item_id < 2**62 else None
    if row is None or row.monitor_id != monitor.id:
        raise NotFound(f"monitor {monitor.name!r} has no review item {item_id}")
    return row


def stats(ctx: Context, project_key: str, name: str) -> QueueStats:
    monitor = monitor_row(ctx, project_key, name, Role.VIEWER)
    needed = _needed(ctx, monitor.id)
    waiting, reviewed, double = ctx.session.execute(
        select(
            func.count().filter(ReviewItemRow.reviews < needed),
            func.count().filter(ReviewItemRow.reviews >= needed),
            func.count().filter(ReviewItemRow.reviews >= 2),
        ).where(ReviewItemRow.monitor_id == monitor.id)
    ).one()
    corrections = (
        ctx.session.scalar(
            select(func.count(func.distinct(ReviewRow.item_id)))
            .join(ReviewItemRow, ReviewItemRow.id == ReviewRow.item_id)
            .where(
                ReviewItemRow.monitor_id == monitor.id,
                ReviewRow.action == ReviewAction.CORRECT.value,
            )
        )
        or 0
    )
    return QueueStats(int(waiting or 0), int(reviewed or 0), int(double or 0), int(corrections))


def agreement(ctx: Context, project_key: str, name: str) -> Agreement:
    """Cohen's kappa between the first and the second answer of every item answered twice."""
    monitor = monitor_row(ctx, project_key, name, Role.VIEWER)
    answers = ctx.session.execute(
        select(ReviewRow.item_id, ReviewRow.label)
        .join(ReviewItemRow, ReviewItemRow.id == ReviewRow.item_id)
        .where(
            ReviewItemRow.monitor_id == monitor.id,
            ReviewItemRow.reviews >= 2,
            ReviewRow.action != ReviewAction.SKIP.value,
        )
        .order_by(ReviewRow.item_id, ReviewRow.id)
    ).all()
    firsts: dict[int, int | None] = {}
    seconds: dict[int, int | None] = {}
    for item_id, label in answers:
        if item_id not in firsts:
            firsts[item_id] = label
        elif item_id not in seconds:
            seconds[item_id] = label
    pairs = [(firsts[i], seconds[i]) for i in seconds]
    result = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    return Agreement(items=result.items, observed=result.observed, kappa=result.kappa)


# --- reviewing --------------------------------------------------------------------------


def _set_label(ctx: Context, monitor: MonitorRow, item: ReviewItemRow) -> None:
    """The prediction's label from the item's latest answer (or what it had before), and
    its window due for a new check."""
    latest = ctx.session.scalar(
        select(ReviewRow.label)
        .where(ReviewRow.item_id == item.id, ReviewRow.action != ReviewAction.SKIP.value)
        .order_by(ReviewRow.id.desc())
        .limit(1)
    )
    label = float(latest) if latest is not None else item.label_before
    window = ctx.session.scalar(
        select(PredictionRow.window_start).where(
            PredictionRow.monitor_id == monitor.id,
            PredictionRow.prediction_id == item.prediction_id,
        )
    )
    if window is None:  # the prediction row is gone (retention); nothing to label
        return
    ctx.session.execute(
        update(PredictionRow)
        .where(
            PredictionRow.monitor_id == monitor.id,
            PredictionRow.prediction_id == item.prediction_id,
        )
        .values(label=label, labelled_at=ctx.clock.now() if label is not None else None)
    )
    touch_windows(ctx, monitor.id, [window], Window(monitor.window).length)


def review(ctx: Context, project_key: str, name: str, item_id: int, body: ReviewIn) -> ReviewItem:
    """The calling reviewer's answer (confirm or correct, by comparing with the model's
    answer) or skip on one item."""
    monitor = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    settings = queue.settings_of(ctx, monitor.id)
    item = _item_row(ctx, monitor, item_id)
    # lock the item: two reviewers answering at once must not both take the last review
    item = (
        ctx.session.scalar(
            select(ReviewItemRow).where(ReviewItemRow.id == item.id).with_for_update()
        )
        or item
    )
    mine = ctx.session.scalar(
        select(ReviewRow).where(
            ReviewRow.item_id == item.id, ReviewRow.reviewer_id == ctx.actor.user_id
        )
    )
    if mine is not None:
        raise Conflict(f"you have already reviewed item {item.id} (undo to change it)")
    if item.reviews >= settings.reviews_per_item:
        raise Conflict(f"item {item.id} has every review it needs")
    if body.label is not None and body.label not in settings.classes:
        raise InvalidInput(f"label: use one of {', '.join(str(c) for c in settings.classes)}")
    if body.skip:
        action = ReviewAction.SKIP
    else:
        model = _model_label(item, monitor.score_threshold)
        action = ReviewAction.CONFIRM if body.label == model else ReviewAction.CORRECT
    ctx.session.add(
        ReviewRow(
            item_id=item.id,
            reviewer_id=ctx.actor.user_id,
            action=action.value,
            label=body.label,
            at=ctx.clock.now(),
        )
    )
    if action is not ReviewAction.SKIP:
        item.reviews += 1
        ctx.session.flush()
        _set_label(ctx, monitor, item)
    ctx.session.flush()
    return _items(ctx, monitor, [item])[0]


def undo(ctx: Context, project_key: str, name: str) -> ReviewItem | None:
    """Take back the calling reviewer's latest answer or skip on this monitor; returns its
    item (to show again), or None when there is nothing to undo."""
    monitor = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    latest = ctx.session.scalar(
        select(ReviewRow)
        .join(ReviewItemRow, ReviewItemRow.id == ReviewRow.item_id)
        .where(ReviewItemRow.monitor_id == monitor.id, ReviewRow.reviewer_id == ctx.actor.user_id)
        .order_by(ReviewRow.id.desc())
        .limit(1)
    )
    if latest is None:
        return None
    item = ctx.session.get(ReviewItemRow, latest.item_id)
    assert item is not None
    answered = latest.action != ReviewAction.SKIP.value
    ctx.session.delete(latest)
    ctx.session.flush()
    if answered:
        item.reviews = max(item.reviews - 1, 0)
        ctx.session.flush()
        _set_label(ctx, monitor, item)
    return _items(ctx, monitor, [item])[0]


# --- export -----------------------------------------------------------------------------


def export(
    ctx: Context, project_key: str, name: str, dataset: str | None = None
) -> tuple[DatasetVersion, bool]:
    """The answered items as a new version of a dataset (one row per item: prediction id,
    time, features, prediction, score, the reviewed label, how many reviews, whether it
    was corrected). Returns the version and whether it is new (the same rows exported
    again are the same version)."""
    import pandas as pd

    monitor = monitor_row(ctx, project_key, name, Role.CONTRIBUTOR)
    rows = ctx.session.scalars(
        select(ReviewItemRow)
        .where(ReviewItemRow.monitor_id == monitor.id, ReviewItemRow.reviews > 0)
        .order_by(ReviewItemRow.id)
        .limit(EXPORT_LIMIT)
    ).all()
    if not rows:
        raise InvalidInput(f"monitor {name!r} has no reviewed predictions to export yet")
    items = _items(ctx, monitor, rows)
    roles = dict(monitor.roles)
    records: list[dict[str, Any]] = []
    for item in items:
        answers = [v for v in item.votes if v.action is not ReviewAction.SKIP]
        record: dict[str, Any] = {
            roles.get("prediction_id", "prediction_id"): item.prediction_id,
            roles.get("timestamp", "timestamp"): item.at,
        }
        record |= item.features
        record |= {
            roles.get("prediction", "prediction"): item.prediction,
            roles.get("score", "score"): item.score,
            roles.get("label", "label"): answers[-1].label,
            "reviews": len(answers),
            "corrected": any(v.action is ReviewAction.CORRECT for v in answers),
        }
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    ctx.settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ctx.settings.home) as folder:
        path = Path(folder) / "reviews.parquet"
        frame.to_parquet(path, index=False)
        registered = data.register_path(
            ctx,
            project_key,
            dataset or f"{monitor.name}-reviews",
            path,
            keep=True,
            meta=VersionMeta(source=f"review queue of monitor {monitor.name}"),
        )
    return registered.version, registered.created
