"""the first hour: withdrawn ideas, edited and deleted comments, notification settings

Revision ID: 0006
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "status in ('new', 'review', 'shortlisted', 'project', 'done', 'rejected')"
NEW = "status in ('new', 'review', 'shortlisted', 'project', 'done', 'rejected', 'withdrawn')"


def upgrade() -> None:
    with op.batch_alter_table("ideas") as batch:
        batch.drop_constraint("status", type_="check")
        batch.create_check_constraint("status", NEW)
    with op.batch_alter_table("idea_comments") as batch:
        batch.add_column(sa.Column("edited_at", bridge.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("deleted_at", bridge.db.UTCDateTime(), nullable=True))
    with op.batch_alter_table("persons") as batch:
        batch.add_column(
            sa.Column("notify", sa.String(length=8), nullable=False, server_default="on")
        )


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("notify")
    with op.batch_alter_table("idea_comments") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("edited_at")
    with op.batch_alter_table("ideas") as batch:
        batch.drop_constraint("status", type_="check")
        batch.create_check_constraint("status", OLD)
