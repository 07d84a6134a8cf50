"""Opaque ids with a type prefix people can read (``run_…``, ``prj_…``)."""

from __future__ import annotations

import secrets
import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def new_secret(prefix: str = "lw") -> str:
    """A bearer secret: shown once, stored only as a hash."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"
