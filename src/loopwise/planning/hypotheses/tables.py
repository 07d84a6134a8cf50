"""Hypotheses and the runs linked to them as evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class HypothesisRow(Base):
    __tablename__ = "hypotheses"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True
    )
    statement: Mapped[str] = mapped_column(Text)
    metric_key: Mapped[str] = mapped_column(String(250))
    comparator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float]
    baseline: Mapped[float | None]
    time_box_end: Mapped[datetime | None]
    kill_criterion: Mapped[str] = mapped_column(Text, default="")
    kill_threshold: Mapped[float | None]
    kill_after_runs: Mapped[int | None]
    verdict: Mapped[str] = mapped_column(String(20))
    verdict_run_id: Mapped[str | None] = mapped_column(String(40))
    verdict_value: Mapped[float | None]
    verdict_at: Mapped[datetime | None]
    verdict_reason: Mapped[str] = mapped_column(Text, default="")


class HypothesisRunRow(Base):
    """Which runs are evidence for which hypothesis."""

    __tablename__ = "hypothesis_runs"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("hypotheses.item_id", ondelete="CASCADE"), primary_key=True
    )
    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime]
