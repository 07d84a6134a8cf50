"""Discovery cycles and their reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loopwise.planning.hypotheses.models import Verdict


@dataclass(frozen=True)
class Cycle:
    id: str
    project_key: str
    number: int
    name: str
    goal: str
    starts_on: date
    ends_on: date
    item_keys: tuple[str, ...]


@dataclass(frozen=True)
class CycleReport:
    cycle: Cycle
    planned: tuple[str, ...]
    done: tuple[str, ...]
    killed: tuple[str, ...]
    carry_over: tuple[str, ...]
    hypotheses: tuple[tuple[str, str, Verdict], ...]  # (key, title, verdict) resolved in it
    # retraining items filed during the cycle (monitoring alerts file them): the models
    # that decayed while the cycle ran, whether or not the cycle planned the work
    retraining: tuple[str, ...] = ()
