"""Board columns, Definition-of-Done templates and each item's ticks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class BoardColumnRow(Base):
    """A workflow column. ``key`` is what work items store as their status."""

    __tablename__ = "board_columns"
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int]
    category: Mapped[str] = mapped_column(String(20))
    wip_limit: Mapped[int | None]


class DoneRuleRow(Base):
    """The Definition of Done template for one item kind in one project."""

    __tablename__ = "done_rules"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class ItemCheckRow(Base):
    """One Definition-of-Done check on one work item."""

    __tablename__ = "item_checks"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(40))
    checked: Mapped[bool] = mapped_column(default=False)
    checked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime | None]
