"""survey_views: what the cards of an anonymous survey show, redrawn in batches

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_views",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("shown_total", sa.Integer(), nullable=False),
        sa.Column("shown_counts", sa.Text(), nullable=False),
        sa.Column("shown_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["surveys.id"]),
        sa.PrimaryKeyConstraint("survey_id"),
    )


def downgrade() -> None:
    op.drop_table("survey_views")
