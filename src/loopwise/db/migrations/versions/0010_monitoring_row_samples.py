"""monitoring: row samples for the multivariate check

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: monitors and batch profiles stored before have no sample (the check then
    # reports "no sample" instead of judging).
    op.add_column("monitors", sa.Column("reference_sample", sa.JSON(), nullable=True))
    op.add_column("monitor_batch_profiles", sa.Column("sample", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN: SQLite has it since 3.35 (no rebuild either).
    op.drop_column("monitor_batch_profiles", "sample")
    op.drop_column("monitors", "reference_sample")
