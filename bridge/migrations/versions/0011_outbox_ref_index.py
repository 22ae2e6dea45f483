"""outbox: an index on ref_key, which every refresh and reply looks up

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_ref", "outbox", ["ref_key", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_ref", table_name="outbox")
