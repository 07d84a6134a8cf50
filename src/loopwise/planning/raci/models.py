"""RACI: who is responsible, accountable, consulted and informed per deliverable."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RaciRole(StrEnum):
    RESPONSIBLE = "R"
    ACCOUNTABLE = "A"
    CONSULTED = "C"
    INFORMED = "I"


@dataclass(frozen=True)
class RaciEntry:
    deliverable: str
    person: str
    role: RaciRole
