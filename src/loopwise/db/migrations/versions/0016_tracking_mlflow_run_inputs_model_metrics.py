"""tracking: MLflow run inputs (datasets, models), run outputs, logged-model metrics,
experiment artifact locations

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("experiments", sa.Column("artifact_location", sa.String(2000), nullable=True))
    op.add_column("logged_models", sa.Column("source_run_ref", sa.String(64), nullable=True))
    op.add_column("logged_models", sa.Column("metrics", sa.JSON(), nullable=True))
    op.create_table(
        "run_dataset_inputs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("source_type", sa.String(length=100), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_run_dataset_inputs_run_id", "run_dataset_inputs", ["run_id"])
    op.create_table(
        "run_models",
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "model_id", "direction"),
    )
    op.create_index("ix_run_models_model_id", "run_models", ["model_id"])


def downgrade() -> None:
    op.drop_index("ix_run_models_model_id", table_name="run_models")
    op.drop_table("run_models")
    op.drop_index("ix_run_dataset_inputs_run_id", table_name="run_dataset_inputs")
    op.drop_table("run_dataset_inputs")
    op.drop_column("logged_models", "metrics")
    op.drop_column("logged_models", "source_run_ref")
    op.drop_column("experiments", "artifact_location")
