"""SQLAlchemy mapping of the audit trail: one row per chain entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class AuditEntryRow(Base):
    """An entry of the chain (audit.chain.Entry). ``time_text`` is the canonical text the
    hash covers; ``time`` the same moment as a timestamp, for queries. Rows are never
    updated or deleted by Loopwise."""

    __tablename__ = "audit_entries"

    # the rowid on SQLite: entries are stored, and walked, in seq order
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    time: Mapped[datetime] = mapped_column(index=True)
    time_text: Mapped[str] = mapped_column(String(27))
    actor: Mapped[str] = mapped_column(String(250), index=True)
    action: Mapped[str] = mapped_column(String(250))
    object: Mapped[str] = mapped_column(String(250), index=True)
    outcome: Mapped[str] = mapped_column(String(250))
    reason: Mapped[str] = mapped_column(Text)
    payload_digest: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
