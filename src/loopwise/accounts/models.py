"""Accounts domain: users, tokens, roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from loopwise.core.errors import InvalidInput


class Role(StrEnum):
    """Per-project roles, each including the rights of the ones before it."""

    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    MAINTAINER = "maintainer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 1, Role.CONTRIBUTOR: 2, Role.MAINTAINER: 3, Role.ADMIN: 4}


class TokenKind(StrEnum):
    API = "api"
    SESSION = "session"


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True)
class Token:
    id: str
    user_id: str
    name: str
    kind: TokenKind
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = None  # written at most once a minute

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


_DURATION = re.compile(r"(\d{1,7})([mhd])")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
LONGEST_TOKEN_LIFE = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """``90m``, ``12h``, ``30d``: a whole number of minutes, hours or days (up to ten years)."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise InvalidInput(
            f"invalid duration {text!r}: use a whole number and m, h or d, e.g. 90m, 12h, 30d"
        )
    duration = int(match[1]) * _UNITS[match[2]]
    if duration > LONGEST_TOKEN_LIFE:
        raise InvalidInput(f"duration {text!r} is longer than 3650 days")
    return duration


@dataclass(frozen=True)
class Membership:
    project_id: str
    user_id: str
    username: str
    role: Role
