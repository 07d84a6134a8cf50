"""The projects table. Other slices refer to a project by its id (a foreign key by
name), never by importing this mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(40))
    charter: Mapped[dict[str, Any]] = mapped_column(JSON)
    next_item_number: Mapped[int] = mapped_column(Integer, default=1)
    next_risk_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    cycle_days: Mapped[int] = mapped_column(Integer, default=21, server_default="21")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PhaseChangeRow(Base):
    """Every change of a project's CRISP-DM phase: from, to, who, when, why, and whether
    an admin overrode an exit check."""

    __tablename__ = "project_phase_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    from_phase: Mapped[str] = mapped_column(String(40))
    to_phase: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    unmet: Mapped[list[str]] = mapped_column(JSON, default=list)
