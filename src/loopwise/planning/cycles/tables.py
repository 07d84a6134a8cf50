"""Cycles and the items planned in them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class CycleRow(Base):
    """A time-boxed discovery block with a goal."""

    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime]


class CycleItemRow(Base):
    """An item planned into a cycle (kept after the item moves on: planned vs done)."""

    __tablename__ = "cycle_items"

    cycle_id: Mapped[str] = mapped_column(
        ForeignKey("cycles.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    planned_at: Mapped[datetime]
