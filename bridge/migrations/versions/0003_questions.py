"""questions: questions to the hosts, their answers, drafts held while similar ones are shown

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=False),
        sa.Column("asker_account_id", sa.Integer(), nullable=False),
        sa.Column("origin_channel_key", sa.String(length=300), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("asked_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("first_response_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("answered_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("accepted_answer_id", sa.Integer(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("escalated_at", bridge.db.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "status in ('open', 'answered', 'closed')", name=op.f("ck_questions_status")
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["persons.id"], name=op.f("fk_questions_answered_by_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["asker_account_id"],
            ["accounts.id"],
            name=op.f("fk_questions_asker_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["asker_id"], ["persons.id"], name=op.f("fk_questions_asker_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"], ["persons.id"], name=op.f("fk_questions_claimed_by_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_questions_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_questions_group_id_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint("community_id", "number", name=op.f("uq_questions_community_id")),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_questions_asker_id"), ["asker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            "ix_questions_open", ["community_id", "status", "asked_at"], unique=False
        )

    op.create_table(
        "question_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_account_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("is_host", sa.Boolean(), nullable=False),
        sa.Column("at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_account_id"],
            ["accounts.id"],
            name=op.f("fk_question_answers_author_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["persons.id"], name=op.f("fk_question_answers_author_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_question_answers_question_id_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_answers")),
        sa.UniqueConstraint("question_id", "number", name=op.f("uq_question_answers_question_id")),
    )
    with op.batch_alter_table("question_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_answers_author_id"), ["author_id"], unique=False
        )

    op.create_table(
        "question_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("origin_channel_key", sa.String(length=300), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("suggested", sa.String(length=200), nullable=False),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_question_drafts_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_question_drafts_community_id_communities"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_question_drafts_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_question_drafts_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_question_drafts_question_id_questions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_drafts")),
    )
    with op.batch_alter_table("question_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_drafts_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("question_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_drafts_person_id"))
    op.drop_table("question_drafts")
    with op.batch_alter_table("question_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_answers_author_id"))
    op.drop_table("question_answers")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index("ix_questions_open")
        batch_op.drop_index(batch_op.f("ix_questions_group_id"))
        batch_op.drop_index(batch_op.f("ix_questions_asker_id"))
    op.drop_table("questions")
