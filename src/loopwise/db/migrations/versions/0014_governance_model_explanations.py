"""governance: model explanations (feature importances kept with a model version)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import loopwise.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_explanations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("project_id", sa.String(length=40), nullable=False),
        sa.Column("model_version_id", sa.String(length=40), nullable=False),
        sa.Column("model_source", sa.String(length=1000), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("scoring", sa.String(length=100), nullable=False),
        sa.Column("n_repeats", sa.Integer(), nullable=True),
        sa.Column("random_state", sa.Integer(), nullable=True),
        sa.Column("baseline_score", sa.Float(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("dataset_version_id", sa.String(length=40), nullable=True),
        sa.Column("dataset_hash", sa.String(length=100), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", loopwise.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_model_explanations_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_model_explanations_dataset_version_id_dataset_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_model_explanations_model_version_id_model_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_model_explanations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_explanations")),
    )
    with op.batch_alter_table("model_explanations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_explanations_model_version_id"),
            ["model_version_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_model_explanations_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("model_explanations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_explanations_project_id"))
        batch_op.drop_index(batch_op.f("ix_model_explanations_model_version_id"))
    op.drop_table("model_explanations")
