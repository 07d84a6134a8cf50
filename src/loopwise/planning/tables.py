"""SQLAlchemy mappings owned by the planning slice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from loopwise.db.base import Base


class WorkItemRow(Base):
    __tablename__ = "work_items"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    number: Mapped[int]
    key: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    estimate: Mapped[float | None]
    labels: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WorkItemEventRow(Base):
    """The item's full history: status moves, verdict changes, edits."""

    __tablename__ = "work_item_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


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


class MilestoneRow(Base):
    __tablename__ = "milestones"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    target_date: Mapped[date]
    created_at: Mapped[datetime]


class MilestoneItemRow(Base):
    __tablename__ = "milestone_items"

    milestone_id: Mapped[str] = mapped_column(
        ForeignKey("milestones.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True, index=True
    )


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


class RaciRow(Base):
    """Who is Responsible, Accountable, Consulted, Informed for a phase or deliverable."""

    __tablename__ = "raci"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    deliverable: Mapped[str] = mapped_column(String(200), primary_key=True)
    person: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(1))
