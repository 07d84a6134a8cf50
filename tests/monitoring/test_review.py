"""The human review queue: predictions chosen at ingest (low confidence, or sampled by a
seeded hash of their id), answered one at a time; an answer is a label (its window is
checked again); two reviewers give Cohen's kappa; answers export as a dataset version."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from monitoring_support import KEY, frame, write_batch
from sklearn.metrics import cohen_kappa_score

from loopwise.accounts import service as accounts
from loopwise.core.context import Actor, Context
from loopwise.core.errors import Conflict, InvalidInput
from loopwise.data import service as data
from loopwise.monitoring import ingest, queue, review
from loopwise.monitoring.models import Monitor, ReviewAction, ReviewReason, ReviewSettings
from loopwise.monitoring.schemas import ReviewIn, ReviewSettingsIn
from loopwise.monitoring.tables import PredictionRow, WindowRow
from loopwise.web.state import AppState


def test_choose_takes_low_confidence_and_a_seeded_sample_of_the_rest() -> None:
    ids = [f"p{i}" for i in range(20_000)]
    scores = np.linspace(0, 1, len(ids))
    settings = ReviewSettings(enabled=True, confidence_below=0.6, sample_rate=0.1, seed=7)
    reasons = queue.choose(ids, scores, settings)
    low = [r is ReviewReason.LOW_CONFIDENCE for r in reasons]
    assert low == list((scores > 0.4) & (scores < 0.6))
    sampled = [i for i, r in enumerate(reasons) if r is ReviewReason.SAMPLED]
    assert len(sampled) == pytest.approx(0.1 * (len(ids) - sum(low)), rel=0.08)
    # the same id is always chosen or not, whatever else comes with it
    again = queue.choose(ids[::-1], scores[::-1], settings)[::-1]
    assert again == reasons
    other_seed = queue.choose(ids, scores, ReviewSettings(True, 0.6, 0.1, seed=8))
    assert other_seed != reasons
    # no id (nothing to join an answer to), NaN scores, a disabled queue
    assert queue.choose([None, "x"], np.array([0.5, np.nan]), settings)[0] is None
    assert queue.choose(["x"], np.array([0.5]), ReviewSettings()) == [None]
    assert queue.sample_value(7, "p1") == queue.sample_value(7, "p1") < 1


@pytest.fixture
def reviewer(state: AppState) -> Iterator[object]:
    """Open a context as another user (a second reviewer)."""
    with state.context(state.ensure_local_actor(), write=True) as ctx:
        bea = accounts.create_user(ctx.session, ctx.clock, "bea", is_admin=True)

    @contextmanager
    def as_bea() -> Iterator[Context]:
        with state.context(Actor(bea.id, "bea", is_admin=True), write=True) as ctx:
            yield ctx

    yield as_bea


def _queue(write, tmp_path: Path, **settings: object) -> pd.DataFrame:  # noqa: ANN001
    rows = frame(600, seed=3, ids="q")
    with write() as ctx:
        review.set_settings(ctx, KEY, "churn", ReviewSettingsIn.model_validate(settings))
        ingest.log_batch(ctx, KEY, "churn", write_batch(rows, tmp_path / "q.parquet"))
    return rows


def test_ingest_fills_the_queue_and_answers_become_labels(
    write,
    monitor: Monitor,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    rows = _queue(write, tmp_path, confidence_below=0.6, sample_rate=0.02, seed=1)
    confidence = np.maximum(rows["score"], 1 - rows["score"])
    expected_low = set(rows["prediction_id"][confidence < 0.6])
    with write() as ctx:
        waiting = review.list_items(ctx, KEY, "churn", waiting=True, limit=1000)
        # the same rows again (another file, same ids) add nothing to the queue
        ingest.log_batch(ctx, KEY, "churn", write_batch(rows, tmp_path / "again.csv"))
        assert len(review.list_items(ctx, KEY, "churn", limit=1000)) == len(waiting)
    low = {i.prediction_id for i in waiting if i.reason is ReviewReason.LOW_CONFIDENCE}
    assert low == expected_low and len(waiting) > len(low)  # and a few sampled
    first = min(waiting, key=lambda i: i.id)
    source = rows.set_index("prediction_id").loc[first.prediction_id]
    assert first.features == {
        "x1": pytest.approx(source.x1),
        "x2": pytest.approx(source.x2),
        "plan": source.plan,
    }
    assert first.model_label == source.prediction and first.score == pytest.approx(source.score)

    with write() as ctx:
        shown = review.next_item(ctx, KEY, "churn")
        assert shown is not None and shown.id == first.id  # oldest first
        window = ctx.session.get(WindowRow, (monitor.id, _window(ctx, monitor, first)))
        assert window is not None
        window.checked_generation = window.generation  # as if checked
        wrong = 1 - int(first.model_label or 0)
        done = review.review(ctx, KEY, "churn", first.id, ReviewIn(label=wrong))
        assert done.votes[0].action is ReviewAction.CORRECT and done.label == wrong
        assert _label(ctx, monitor, first.prediction_id) == wrong  # as the labels API does
        assert window.generation > window.checked_generation  # due to be checked again
        assert review.next_item(ctx, KEY, "churn").id != first.id  # type: ignore[union-attr]
        with pytest.raises(Conflict, match="already"):
            review.review(ctx, KEY, "churn", first.id, ReviewIn(label=wrong))
        with pytest.raises(InvalidInput, match="one of 0, 1"):
            review.review(ctx, KEY, "churn", waiting[0].id, ReviewIn(label=7))
        second = review.next_item(ctx, KEY, "churn")
        assert second is not None
        review.review(ctx, KEY, "churn", second.id, ReviewIn(skip=True))
        assert review.stats(ctx, KEY, "churn").reviewed == 1  # a skip is no review

        assert review.undo(ctx, KEY, "churn").id == second.id  # type: ignore[union-attr]
        assert review.next_item(ctx, KEY, "churn").id == second.id  # type: ignore[union-attr]
        back = review.undo(ctx, KEY, "churn")
        assert back is not None and back.id == first.id and back.votes == ()
        assert _label(ctx, monitor, first.prediction_id) == source.label  # as before
        assert review.undo(ctx, KEY, "churn") is None
        stats = review.stats(ctx, KEY, "churn")
        assert stats.waiting == len(waiting) and stats.reviewed == 0


def _window(ctx: Context, monitor: Monitor, item: object) -> object:
    from sqlalchemy import select

    return ctx.session.scalar(
        select(PredictionRow.window_start).where(
            PredictionRow.monitor_id == monitor.id,
            PredictionRow.prediction_id == item.prediction_id,  # type: ignore[attr-defined]
        )
    )


def _label(ctx: Context, monitor: Monitor, prediction_id: str) -> float | None:
    from sqlalchemy import select

    return ctx.session.scalar(
        select(PredictionRow.label).where(
            PredictionRow.monitor_id == monitor.id, PredictionRow.prediction_id == prediction_id
        )
    )


def test_two_reviewers_give_cohens_kappa_as_scikit_learn_and_export_a_version(
    write,  # noqa: ANN001
    reviewer,  # noqa: ANN001
    monitor: Monitor,
    tmp_path: Path,
) -> None:
    _queue(write, tmp_path, confidence_below=0.7, reviews_per_item=2)
    rng = np.random.default_rng(5)
    first: list[int] = []
    second: list[int] = []
    for _ in range(25):
        with write() as ctx:
            item = review.next_item(ctx, KEY, "churn")
            assert item is not None
            a = int(rng.integers(0, 2))
            review.review(ctx, KEY, "churn", item.id, ReviewIn(label=a))
        with reviewer() as ctx:  # the same item waits for the second reviewer
            assert review.next_item(ctx, KEY, "churn").id == item.id  # type: ignore[union-attr]
            b = a if rng.random() < 0.7 else 1 - a
            done = review.review(ctx, KEY, "churn", item.id, ReviewIn(label=b))
        first.append(a)
        second.append(b)
        assert [v.reviewer for v in done.votes] == ["local", "bea"] and done.label == b
    with write() as ctx:
        agreement = review.agreement(ctx, KEY, "churn")
        stats = review.stats(ctx, KEY, "churn")
        with pytest.raises(Conflict, match="already"):
            review.review(ctx, KEY, "churn", item.id, ReviewIn(label=0))
    assert agreement.items == 25 and stats.double_reviewed == 25
    assert agreement.kappa == pytest.approx(cohen_kappa_score(first, second))
    assert agreement.observed == pytest.approx(np.mean(np.equal(first, second)))

    with write() as ctx:
        version, created = review.export(ctx, KEY, "churn")
        again, created_again = review.export(ctx, KEY, "churn")
    assert created and not created_again and again.id == version.id
    assert version.dataset == "churn-reviews" and version.rows == 25
    exported = pd.read_parquet(version.location)
    assert list(exported["label"]) == second  # the latest answer
    assert {"prediction_id", "timestamp", "x1", "x2", "plan", "score", "reviews"} <= set(
        exported.columns
    )
    assert (exported["reviews"] == 2).all()
    with write() as ctx:
        assert data.get_version(ctx, version.id).project_key == KEY
