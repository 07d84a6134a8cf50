"""covering index for metric series reads

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["run_id", "key", "step", "timestamp", "id", "value", "is_nan"]


def upgrade() -> None:
    op.create_index("ix_metrics_series", "metrics", COLUMNS, unique=False)
    op.drop_index("ix_metrics_run_key_step", table_name="metrics")


def downgrade() -> None:
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"], unique=False)
    op.drop_index("ix_metrics_series", table_name="metrics")
