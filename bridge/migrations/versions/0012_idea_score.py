"""idea score: the sum of an idea's votes, kept in each vote's transaction

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ideas") as batch:
        batch.add_column(sa.Column("score", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE ideas SET score = COALESCE("
        "(SELECT SUM(value) FROM idea_votes WHERE idea_votes.idea_id = ideas.id), 0)"
    )
    op.create_index("ix_ideas_group_score", "ideas", ["group_id", "score"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ideas_group_score", table_name="ideas")
    with op.batch_alter_table("ideas") as batch:
        batch.drop_column("score")
