"""Risks and the items they affect."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class RiskRow(Base):
    __tablename__ = "risks"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20))
    likelihood: Mapped[int]
    impact: Mapped[int]
    residual_likelihood: Mapped[int | None]
    residual_impact: Mapped[int | None]
    owner: Mapped[str] = mapped_column(String(200), default="")
    mitigation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    next_review: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RiskItemRow(Base):
    __tablename__ = "risk_items"

    risk_id: Mapped[str] = mapped_column(
        ForeignKey("risks.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )
