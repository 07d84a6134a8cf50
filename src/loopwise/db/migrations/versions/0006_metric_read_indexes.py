"""covering index for metric series reads; latest values by experiment, key and value

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 09:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["run_id", "key", "step", "timestamp", "id", "value", "is_nan"]


def upgrade() -> None:
    op.create_index("ix_metrics_series", "metrics", COLUMNS, unique=False)
    op.drop_index("ix_metrics_run_key_step", table_name="metrics")
    with op.batch_alter_table("latest_metrics") as batch:
        batch.add_column(sa.Column("experiment_id", sa.String(length=40), nullable=True))
        batch.create_foreign_key(
            "fk_latest_metrics_experiment_id_experiments",
            "experiments",
            ["experiment_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.execute(
        "UPDATE latest_metrics SET experiment_id = "
        "(SELECT runs.experiment_id FROM runs WHERE runs.id = latest_metrics.run_id)"
    )
    op.create_index(
        "ix_latest_metrics_experiment_key_value",
        "latest_metrics",
        ["experiment_id", "key", "value"],
    )


def downgrade() -> None:
    op.drop_index("ix_latest_metrics_experiment_key_value", table_name="latest_metrics")
    with op.batch_alter_table("latest_metrics") as batch:
        batch.drop_constraint("fk_latest_metrics_experiment_id_experiments", type_="foreignkey")
        batch.drop_column("experiment_id")
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"], unique=False)
    op.drop_index("ix_metrics_series", table_name="metrics")
