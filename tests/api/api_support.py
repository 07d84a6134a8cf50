"""Shared by the API tests: a snapshot of everything stored, and the seeded ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from loopwise.db.base import Base
from loopwise.slices import load_tables

Snapshot = dict[str, Any]


def take_snapshot(app: FastAPI) -> Snapshot:
    """Every row of every table, and every file under the artifact root (with a hash)."""
    load_tables()
    state = app.state.loopwise
    tables: dict[str, list[str]] = {}
    with state.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    root: Path = state.settings.resolved_artifact_root
    files = (
        {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
        if root.exists()
        else {}
    )
    return {"tables": tables, "files": files}


@dataclass
class Seed:
    project: str
    hypothesis: str
    run_id: str
    other_run_id: str


SnapshotFn = Callable[[], Snapshot]
