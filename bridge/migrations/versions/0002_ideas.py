"""ideas: ideas, votes, comments and drafts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:18:07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("proposer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("project_group_id", sa.Integer(), nullable=True),
        sa.Column("showcase_group_id", sa.Integer(), nullable=True),
        sa.Column("promoted_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bridge.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status in ('new', 'review', 'shortlisted', 'project', 'done', 'rejected')",
            name=op.f("ck_ideas_status"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_ideas_community_id_communities")
        ),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], name=op.f("fk_ideas_group_id_groups")),
        sa.ForeignKeyConstraint(
            ["project_group_id"], ["groups.id"], name=op.f("fk_ideas_project_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"], ["persons.id"], name=op.f("fk_ideas_proposer_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["showcase_group_id"], ["groups.id"], name=op.f("fk_ideas_showcase_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
        sa.UniqueConstraint("community_id", "number", name=op.f("uq_ideas_community_id")),
    )
    op.create_index("ix_ideas_group_created", "ideas", ["group_id", "created_at"], unique=False)
    op.create_index(op.f("ix_ideas_proposer_id"), "ideas", ["proposer_id"], unique=False)

    op.create_table(
        "idea_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_comments_idea_id_ideas")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_idea_comments_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_comments")),
    )
    op.create_index(op.f("ix_idea_comments_idea_id"), "idea_comments", ["idea_id"], unique=False)
    op.create_index(
        op.f("ix_idea_comments_person_id"), "idea_comments", ["person_id"], unique=False
    )

    op.create_table(
        "idea_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("idea_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_idea_drafts_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_idea_drafts_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_drafts_idea_id_ideas")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_idea_drafts_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_drafts")),
    )
    op.create_index(op.f("ix_idea_drafts_expires_at"), "idea_drafts", ["expires_at"], unique=False)
    op.create_index(op.f("ix_idea_drafts_person_id"), "idea_drafts", ["person_id"], unique=False)

    op.create_table(
        "idea_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bridge.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("value in (-1, 1)", name=op.f("ck_idea_votes_value")),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["ideas.id"], name=op.f("fk_idea_votes_idea_id_ideas")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_idea_votes_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_votes")),
        sa.UniqueConstraint("idea_id", "person_id", name=op.f("uq_idea_votes_idea_id")),
    )
    op.create_index(op.f("ix_idea_votes_person_id"), "idea_votes", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_idea_votes_person_id"), table_name="idea_votes")
    op.drop_table("idea_votes")
    op.drop_index(op.f("ix_idea_drafts_person_id"), table_name="idea_drafts")
    op.drop_index(op.f("ix_idea_drafts_expires_at"), table_name="idea_drafts")
    op.drop_table("idea_drafts")
    op.drop_index(op.f("ix_idea_comments_person_id"), table_name="idea_comments")
    op.drop_index(op.f("ix_idea_comments_idea_id"), table_name="idea_comments")
    op.drop_table("idea_comments")
    op.drop_index(op.f("ix_ideas_proposer_id"), table_name="ideas")
    op.drop_index("ix_ideas_group_created", table_name="ideas")
    op.drop_table("ideas")
