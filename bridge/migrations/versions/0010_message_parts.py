"""message parts: a split message is stored as the ids of its parts

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posted_messages") as batch:
        batch.alter_column(
            "platform_message_id", existing_type=sa.String(200), type_=sa.String(2000)
        )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "platform_message_id",
            existing_type=sa.String(200),
            type_=sa.String(2000),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "platform_message_id",
            existing_type=sa.String(2000),
            type_=sa.String(200),
            existing_nullable=True,
        )
    with op.batch_alter_table("posted_messages") as batch:
        batch.alter_column(
            "platform_message_id", existing_type=sa.String(2000), type_=sa.String(200)
        )
