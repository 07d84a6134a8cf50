"""api tokens: last_used_at (expires_at exists since 0001)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import loopwise.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default: a plain ALTER TABLE ADD COLUMN on SQLite too,
    # no table rebuild.
    op.add_column(
        "api_tokens",
        sa.Column("last_used_at", loopwise.db.base.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN: SQLite has it since 3.35 (no rebuild either).
    op.drop_column("api_tokens", "last_used_at")
