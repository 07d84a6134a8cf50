"""The risk register: categories, statuses, scores and levels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class RiskCategory(StrEnum):
    DATA = "data"
    TECHNICAL = "technical"
    ETHICAL = "ethical"
    LEGAL = "legal"
    BUSINESS = "business"
    OPERATIONAL = "operational"


class RiskStatus(StrEnum):
    OPEN = "open"
    MITIGATING = "mitigating"
    ACCEPTED = "accepted"
    CLOSED = "closed"


@dataclass(frozen=True)
class Risk:
    id: str
    key: str  # e.g. CHURN-R3
    project_key: str
    title: str
    description: str
    category: RiskCategory
    likelihood: int
    impact: int
    residual_likelihood: int | None
    residual_impact: int | None
    owner: str
    mitigation: str
    status: RiskStatus
    next_review: date | None
    item_keys: tuple[str, ...]
    review_overdue: bool
    score: int  # likelihood x impact, 1-25
    residual_score: int | None
    level: str  # low (1-5), medium (6-12), high (15-25)


def risk_level(score: int) -> str:
    return "high" if score >= 15 else "medium" if score >= 6 else "low"
