"""search terms: ideas, questions and profiles found by the database

Joins the feature branches (ideas, questions, surveys, partners): the index covers three
of them. Existing rows are indexed here, in batches.

Revision ID: 0009
Revises: 0003, 0005, 0006, 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = ("0003", "0005", "0006", "0008")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def upgrade() -> None:
    from bridge.search import terms_of

    op.create_table(
        "search_terms",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("kind", "item_id", "term", name=op.f("pk_search_terms")),
    )
    op.create_index(
        "ix_search_terms_lookup", "search_terms", ["kind", "term", "item_id"], unique=False
    )
    table = sa.table("search_terms", sa.column("kind"), sa.column("item_id"), sa.column("term"))
    bind = op.get_bind()
    sources = {
        "idea": "SELECT id, title, description FROM ideas",
        "question": "SELECT id, text FROM questions",
        "profile": (
            "SELECT p.person_id, p.company, p.description, p.region, COALESCE(t.name, '') "
            "FROM profiles p LEFT JOIN trades t ON t.id = p.trade_id"
        ),
    }
    for kind, query in sources.items():
        every = bind.execute(sa.text(query)).all()
        for start in range(0, len(every), BATCH):
            rows = every[start : start + BATCH]
            values = [
                {"kind": kind, "item_id": row[0], "term": term}
                for row in rows
                for term in sorted(terms_of(*(str(v or "") for v in row[1:])))
            ]
            if values:
                bind.execute(table.insert(), values)


def downgrade() -> None:
    op.drop_index("ix_search_terms_lookup", table_name="search_terms")
    op.drop_table("search_terms")
