"""The compliance calendar: the dates from which a framework's obligations apply, read from
``compliance_calendar.yaml`` (data shipped in the package, not code), and the pure rule
that gives a gate its due date.

The rule: a gate is due on the earliest date from which an obligation of one of the
clauses it serves (``GateTemplate.clauses``, ``EU AI Act Art. 9``) applies. The high-risk
obligations have two routes (Art. 113): Annex III systems from the general application
date, Annex I products (Art. 6(1)) a year later; ``route`` chooses one. A gate that serves
no dated clause (NIST AI RMF only) has no due date. Once the date is reached a gate that
has not passed is overdue; a passed gate is met whatever the date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from loopwise.governance.models import DueState, GateDue

CALENDAR_FILE = Path(__file__).with_name("compliance_calendar.yaml")
DEFAULT_ROUTE = "annex_iii"
ROUTES = ("annex_iii", "annex_i")


@dataclass(frozen=True)
class Milestone:
    key: str
    date: date
    title: str
    articles: tuple[int, ...]
    route: str | None  # None: applies whatever the route


@dataclass(frozen=True)
class Calendar:
    framework: str
    source: str
    clause_prefix: str  # "EU AI Act Art. ": how gate templates name this framework's clauses
    milestones: tuple[Milestone, ...]


def parse(data: dict[str, Any]) -> Calendar:
    """The calendar from its YAML data (dates as YAML dates)."""
    milestones = tuple(
        Milestone(
            key=str(m["key"]),
            date=m["date"] if isinstance(m["date"], date) else date.fromisoformat(m["date"]),
            title=str(m["title"]),
            articles=tuple(int(a) for a in m.get("articles", ())),
            route=m.get("route"),
        )
        for m in data["milestones"]
    )
    return Calendar(
        framework=str(data["framework"]),
        source=str(data["source"]),
        clause_prefix=str(data["clause_prefix"]),
        milestones=tuple(sorted(milestones, key=lambda m: m.date)),
    )


@cache
def load() -> Calendar:
    """The calendar shipped with the package (read once)."""
    return parse(yaml.safe_load(CALENDAR_FILE.read_text(encoding="utf-8")))


def article_of(calendar: Calendar, clause: str) -> int | None:
    """``EU AI Act Art. 9`` -> 9; None for a clause of another framework."""
    if not clause.startswith(calendar.clause_prefix):
        return None
    found = re.match(r"\d+", clause[len(calendar.clause_prefix) :])
    return int(found.group()) if found else None


def milestone_of(calendar: Calendar, clause: str, route: str = DEFAULT_ROUTE) -> Milestone | None:
    """The earliest milestone from which ``clause`` applies on ``route``."""
    article = article_of(calendar, clause)
    if article is None:
        return None
    for m in calendar.milestones:  # sorted by date
        if article in m.articles and m.route in (None, route):
            return m
    return None


def gate_due(
    calendar: Calendar,
    clauses: tuple[str, ...],
    passed: bool,
    today: date,
    route: str = DEFAULT_ROUTE,
) -> GateDue | None:
    """When a gate serving ``clauses`` is due, and whether it is met, overdue or upcoming."""
    dated = [(m, c) for c in clauses if (m := milestone_of(calendar, c, route)) is not None]
    if not dated:
        return None
    first = min(m.date for m, _ in dated)
    milestone = next(m for m, _ in dated if m.date == first)
    if passed:
        state = DueState.MET
    elif first <= today:
        state = DueState.OVERDUE
    else:
        state = DueState.UPCOMING
    return GateDue(
        date=first,
        milestone=milestone.key,
        title=milestone.title,
        clauses=tuple(c for m, c in dated if m.date == first),
        state=state,
        days=(first - today).days,
        source=calendar.source,
    )
