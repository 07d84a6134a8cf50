"""governance: a fairness audit keeps its full result (groups, intervals)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: audits stored before kept only their headline values (the audits page
    # then shows those, without the per-group table and the intervals).
    op.add_column("fairness_audits", sa.Column("detail", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("fairness_audits", "detail")
