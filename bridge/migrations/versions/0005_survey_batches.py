"""surveys: what the cards of an anonymous survey show, redrawn in batches

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
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("shown_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shown_counts", sa.Text(), nullable=True))
        batch.add_column(sa.Column("shown_at", bridge.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("shown_at")
        batch.drop_column("shown_counts")
        batch.drop_column("shown_total")
