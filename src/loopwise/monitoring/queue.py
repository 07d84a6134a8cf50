"""Which logged predictions go to the human review queue, decided at ingest.

``choose`` is the rule (a pure function over arrays): a prediction with an id enters when
its confidence, max(score, 1 - score), is below the monitor's ``confidence_below``
(low confidence), or else when its sampling value is below ``sample_rate`` (sampled).
The sampling value is a hash of the seed and the prediction id mapped to [0, 1), so the
same id is always chosen or not, whatever batch it comes in, on any machine.
``enqueue`` stores the chosen rows with the feature values a reviewer sees and an export
writes (as the monitor reads them: numbers as floats, categories as text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.dialects import postgresql, sqlite

from loopwise.core.context import Context
from loopwise.monitoring.models import ReviewReason, ReviewSettings
from loopwise.monitoring.tables import ReviewItemRow, ReviewSettingsRow

INSERT_ROWS = 500  # review items per INSERT statement


def settings_of(ctx: Context, monitor_id: str) -> ReviewSettings:
    row = ctx.session.get(ReviewSettingsRow, monitor_id)
    if row is None:
        return ReviewSettings()
    return ReviewSettings(
        enabled=row.enabled,
        confidence_below=row.confidence_below,
        sample_rate=row.sample_rate,
        seed=row.seed,
        classes=tuple(row.classes),
        reviews_per_item=row.reviews_per_item,
    )


def sample_value(seed: int, prediction_id: str) -> float:
    """A uniform value in [0, 1) fixed by the seed and the id (SHA-256, first 8 bytes)."""
    digest = hashlib.sha256(f"{seed}:{prediction_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def confidence(scores: np.ndarray) -> np.ndarray:
    """max(score, 1 - score): the probability of the class the model chose (NaN stays)."""
    out: np.ndarray = np.maximum(scores, 1.0 - scores)
    return out


def choose(
    ids: Sequence[str | None], scores: np.ndarray, settings: ReviewSettings
) -> list[ReviewReason | None]:
    """Each prediction's reason to enter the queue, or None (see the module doc)."""
    if not settings.enabled:
        return [None] * len(ids)
    low = np.zeros(len(ids), dtype=bool)
    if settings.confidence_below is not None:
        with np.errstate(invalid="ignore"):
            low = confidence(scores) < settings.confidence_below  # NaN: False
    out: list[ReviewReason | None] = []
    for pid, is_low in zip(ids, low.tolist(), strict=True):
        if pid is None:
            out.append(None)  # no id: a review could not be joined back as a label
        elif is_low:
            out.append(ReviewReason.LOW_CONFIDENCE)
        elif settings.sample_rate > 0 and sample_value(settings.seed, pid) < settings.sample_rate:
            out.append(ReviewReason.SAMPLED)
        else:
            out.append(None)
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: JSON has none
        return None
    if isinstance(value, np.generic):
        return _json_value(value.item())
    return value


def enqueue(
    ctx: Context,
    monitor_id: str,
    settings: ReviewSettings,
    *,
    ids: np.ndarray,
    scores: np.ndarray,
    predictions: np.ndarray,
    labels: np.ndarray,
    moments: np.ndarray,
    features: Mapping[str, np.ndarray],
) -> int:
    """Store the chosen predictions of one chunk of a batch; returns how many were chosen
    (an id already in the queue is left as it is)."""
    reasons = choose(ids.tolist(), scores, settings)
    chosen = [i for i, r in enumerate(reasons) if r is not None]
    if not chosen:
        return 0
    now = ctx.clock.now()
    rows = []
    for i in chosen:
        score, label = float(scores[i]), float(labels[i])
        moment: datetime = moments[i].astype("datetime64[us]").astype(object)
        rows.append(
            {
                "monitor_id": monitor_id,
                "prediction_id": ids[i],
                "at": moment.replace(tzinfo=UTC),
                "prediction": predictions[i],
                "score": None if score != score else score,
                "reason": reasons[i].value,  # type: ignore[union-attr]
                "features": {name: _json_value(v[i]) for name, v in features.items()},
                "label_before": None if label != label else label,
                "reviews": 0,
                "entered_at": now,
            }
        )
    insert = (
        postgresql.insert
        if ctx.session.connection().dialect.name == "postgresql"
        else sqlite.insert
    )
    for at in range(0, len(rows), INSERT_ROWS):
        ctx.session.execute(
            insert(ReviewItemRow).values(rows[at : at + INSERT_ROWS]).on_conflict_do_nothing()
        )
    return len(rows)
