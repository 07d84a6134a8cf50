"""Accounts domain: users, tokens, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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


@dataclass(frozen=True)
class Membership:
    project_id: str
    user_id: str
    username: str
    role: Role
