"""What the planning pages' forms share: whole numbers, dates and lists of item keys
typed into a form, friendlier validation messages, and role checks."""

from __future__ import annotations

import re
from datetime import date

from loopwise.accounts.models import Role


def whole(text: str, label: str, low: int, high: int, errors: list[str]) -> int | None:
    """A whole number typed into a form, or None with a message in ``errors``."""
    if text.isdigit() and len(text) <= 9 and low <= int(text) <= high:
        return int(text)
    errors.append(f"{label}: use a whole number from {low:,} to {high:,}")
    return None


def day(text: str, label: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{label}: {text!r} is not a date (use YYYY-MM-DD)")
        return None


def item_keys(text: str) -> list[str]:
    """``a-1, A-2 a-1`` -> ``["A-1", "A-2"]``: commas or spaces, any case, no repeats."""
    return list(dict.fromkeys(k.upper() for k in re.split(r"[\s,;]+", text) if k))


def allows(role: Role | None, needed: Role) -> bool:
    return role is not None and role.allows(needed)


def friendly(messages: list[str], dates: tuple[str, ...], scores: tuple[str, ...]) -> list[str]:
    """Pydantic's wording for dates and 1-5 scores, said for a form."""
    out = []
    for message in messages:
        label, _, text = message.partition(": ")
        if label in dates and text != "required":
            text = "use a date like 2026-03-31"
        elif label in scores and text != "required":
            text = "use a whole number from 1 to 5"
        out.append(f"{label}: {text}")
    return out
