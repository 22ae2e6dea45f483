"""relay: a group's channels share their plain messages

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("groups") as batch:
        batch.add_column(
            sa.Column("relay", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("persons") as batch:
        batch.add_column(
            sa.Column("relay_mentions", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "relay_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "group_id", sa.Integer(), sa.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("channel_key", sa.String(300), nullable=False),
        sa.Column("platform_message_id", sa.String(200), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("persons.id"), nullable=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("avatar_url", sa.String(500), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=True),
        sa.Column("reply_to_id", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("edited_at", bridge.db.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("channel_key", "platform_message_id"),
    )
    op.create_index("ix_relay_created", "relay_messages", ["created_at"])
    op.create_index(
        "ix_posted_channel_message", "posted_messages", ["channel_key", "platform_message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_posted_channel_message", table_name="posted_messages")
    op.drop_index("ix_relay_created", table_name="relay_messages")
    op.drop_table("relay_messages")
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("relay_mentions")
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("relay")
