"""partners: trades, profiles, references, recommendations

Revision ID: 0007
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # exports behind a one-time link are no longer only of surveys (profiles too)
    with op.batch_alter_table("survey_exports") as batch:
        batch.alter_column("survey_id", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "trades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "slug"),
    )
    op.create_table(
        "profiles",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("company", sa.String(length=120), nullable=False),
        sa.Column("trade_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("website", sa.String(length=300), nullable=False),
        sa.Column("contact", sa.String(length=300), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("updated_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["trade_id"], ["trades.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_index("ix_profiles_community_id", "profiles", ["community_id"])
    op.create_table(
        "partner_references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
    )
    op.create_index("ix_partner_references_person_id", "partner_references", ["person_id"])
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("recommender_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status in ('pending', 'approved', 'rejected')", name="ck_recommendations_status"
        ),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["persons.id"]),
        sa.ForeignKeyConstraint(["recommender_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("partner_id", "recommender_id"),
    )
    op.create_index("ix_recommendations_community_id", "recommendations", ["community_id"])
    op.create_index("ix_recommendations_partner_id", "recommendations", ["partner_id"])
    op.create_index("ix_recommendations_recommender_id", "recommendations", ["recommender_id"])


def downgrade() -> None:
    with op.batch_alter_table("survey_exports") as batch:
        batch.alter_column("survey_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("recommendations")
    op.drop_table("partner_references")
    op.drop_table("profiles")
    op.drop_table("trades")
