"""Milestones: a target date over a set of work items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Milestone:
    id: str
    project_key: str
    name: str
    description: str
    target_date: date
    item_keys: tuple[str, ...]
    remaining: int
