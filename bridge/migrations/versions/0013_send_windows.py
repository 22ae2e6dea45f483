"""send windows: the platforms' send allowances shared by every process on one database;
an index for the outbox's order per channel

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_windows",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("times", sa.Text(), nullable=False, server_default="[]"),
    )
    op.create_index("ix_outbox_channel", "outbox", ["channel_key", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_channel", table_name="outbox")
    op.drop_table("send_windows")
