"""Wire models for accounts."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from loopwise.accounts.models import Role, Token

Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=63)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(_In):
    username: Username
    display_name: Annotated[str, StringConstraints(max_length=200)] = ""
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = None
    is_admin: bool = False


class TokenCreate(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    # e.g. "90m", "12h", "30d" (accounts.models.parse_duration); none: never expires
    expires_in: Annotated[str, StringConstraints(max_length=20)] | None = None


class TokenCreated(BaseModel):
    token: Token
    secret: str


class MemberSet(_In):
    username: Username
    role: Role


class LoginIn(_In):
    username: Username
    password: Annotated[str, StringConstraints(max_length=200)]
