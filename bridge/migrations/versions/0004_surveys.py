"""surveys: polls and multi-question surveys, respondents apart from anonymous counts,
answers, one-time CSV exports

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bridge.db

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("closes_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("closed_at", bridge.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind in ('poll', 'form')", name=op.f("ck_surveys_kind")),
        sa.CheckConstraint("status in ('open', 'closed')", name=op.f("ck_surveys_status")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_surveys_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_surveys_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["persons.id"], name=op.f("fk_surveys_owner_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("community_id", "number", name=op.f("uq_surveys_community_id")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveys_group_id"), ["group_id"], unique=False)

    op.create_table(
        "survey_exports",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", bridge.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_survey_exports_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_exports_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_survey_exports")),
    )
    with op.batch_alter_table("survey_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_exports_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_exports_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.CheckConstraint(
            "kind in ('single', 'multi', 'text')", name=op.f("ck_survey_questions_kind")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_questions_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_questions")),
        sa.UniqueConstraint("survey_id", "position", name=op.f("uq_survey_questions_survey_id")),
    )
    op.create_table(
        "survey_respondents",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("responded_at", bridge.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_survey_respondents_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_respondents_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("survey_id", "person_id", name=op.f("pk_survey_respondents")),
    )
    with op.batch_alter_table("survey_respondents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_respondents_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "survey_anon_texts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_anon_texts_question_id_survey_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_anon_texts")),
    )
    with op.batch_alter_table("survey_anon_texts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_anon_texts_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "survey_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_options_question_id_survey_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_options")),
        sa.UniqueConstraint("question_id", "position", name=op.f("uq_survey_options_question_id")),
    )
    op.create_table(
        "survey_text_answers",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answered_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_survey_text_answers_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_text_answers_question_id_survey_questions"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_text_answers_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("question_id", "person_id", name=op.f("pk_survey_text_answers")),
    )
    with op.batch_alter_table("survey_text_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_text_answers_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_text_answers_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_choices",
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("chosen_at", bridge.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["survey_options.id"],
            name=op.f("fk_survey_choices_option_id_survey_options"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_survey_choices_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["survey_questions.id"],
            name=op.f("fk_survey_choices_question_id_survey_questions"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_choices_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("option_id", "person_id", name=op.f("pk_survey_choices")),
    )
    with op.batch_alter_table("survey_choices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_choices_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "ix_survey_choices_question_person", ["question_id", "person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_survey_choices_survey_id"), ["survey_id"], unique=False
        )

    op.create_table(
        "survey_tallies",
        sa.Column("option_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["option_id"],
            ["survey_options.id"],
            name=op.f("fk_survey_tallies_option_id_survey_options"),
        ),
        sa.PrimaryKeyConstraint("option_id", name=op.f("pk_survey_tallies")),
    )


def downgrade() -> None:
    op.drop_table("survey_tallies")
    with op.batch_alter_table("survey_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_choices_survey_id"))
        batch_op.drop_index("ix_survey_choices_question_person")
        batch_op.drop_index(batch_op.f("ix_survey_choices_person_id"))

    op.drop_table("survey_choices")
    with op.batch_alter_table("survey_text_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_text_answers_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_text_answers_person_id"))

    op.drop_table("survey_text_answers")
    op.drop_table("survey_options")
    with op.batch_alter_table("survey_anon_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_anon_texts_question_id"))

    op.drop_table("survey_anon_texts")
    with op.batch_alter_table("survey_respondents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_respondents_person_id"))

    op.drop_table("survey_respondents")
    op.drop_table("survey_questions")
    with op.batch_alter_table("survey_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_exports_survey_id"))
        batch_op.drop_index(batch_op.f("ix_survey_exports_expires_at"))

    op.drop_table("survey_exports")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_group_id"))

    op.drop_table("surveys")
