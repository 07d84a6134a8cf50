"""RACI assignments."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class RaciRow(Base):
    """Who is Responsible, Accountable, Consulted, Informed for a phase or deliverable."""

    __tablename__ = "raci"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    deliverable: Mapped[str] = mapped_column(String(200), primary_key=True)
    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(1))
