"""RACI entries shaped for the project page's table and form."""

from __future__ import annotations

from typing import Any

from loopwise.planning.raci.models import RaciEntry, RaciRole


def raci_table(entries: list[RaciEntry]) -> dict[str, Any]:
    """Deliverables as rows, people as columns, R/A/C/I in the cells."""
    return {
        "deliverables": list(dict.fromkeys(e.deliverable for e in entries)),
        "people": sorted({e.person for e in entries}, key=str.lower),
        "cells": {(e.deliverable, e.person): e.role.value for e in entries},
    }


def raci_form(entries: list[RaciEntry], deliverable: str) -> dict[str, str]:
    """The RACI form filled in with one deliverable's assignments (for editing)."""
    values = {"deliverable": deliverable} | {r.value: "" for r in RaciRole}
    for role in RaciRole:
        names = [e.person for e in entries if e.deliverable == deliverable and e.role is role]
        values[role.value] = ", ".join(names)
    return values
