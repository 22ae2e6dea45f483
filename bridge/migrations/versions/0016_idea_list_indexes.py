"""idea lists: a group's page of ideas read from an index, at any size

``/ideas top`` orders by score, then number: the index covers both, so the first page no
longer sorts every idea of the group that has the same score. ``/ideas new`` orders by
number within the group. ``(group_id, status)`` counts a group's listed ideas from the
index alone (the "page 1 of N") and serves the funnel.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_ideas_group_score", table_name="ideas")
    op.create_index("ix_ideas_group_score", "ideas", ["group_id", "score", "number"])
    op.create_index("ix_ideas_group_number", "ideas", ["group_id", "number"])
    op.create_index("ix_ideas_group_status", "ideas", ["group_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_ideas_group_status", table_name="ideas")
    op.drop_index("ix_ideas_group_number", table_name="ideas")
    op.drop_index("ix_ideas_group_score", table_name="ideas")
    op.create_index("ix_ideas_group_score", "ideas", ["group_id", "score"])
