"""Survey records: polls and multi-question surveys, who responded, and the answers.

Anonymity is kept by the layout: ``survey_respondents`` says *that* a person responded
(for once-only), while the choices of an anonymous survey live only as counts in
``survey_tallies`` and its free-text answers in ``survey_anon_texts``, neither of which
has a person column (nor a time or a sequential id that could be matched up). Only
non-anonymous surveys store who chose what (``survey_choices``, ``survey_text_answers``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db import Base, UTCDateTime

__all__ = [
    "Survey",
    "SurveyAnonText",
    "SurveyChoice",
    "SurveyExport",
    "SurveyOption",
    "SurveyQuestion",
    "SurveyRespondent",
    "SurveyTally",
    "SurveyTextAnswer",
]


class Survey(Base):
    """``S-n``: a poll (one question, answered by buttons) or a form (several questions,
    answered in a private chat)."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint("kind in ('poll', 'form')", name="kind"),
        CheckConstraint("status in ('open', 'closed')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    number: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(8), default="poll")
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(8), default="open")
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def ref(self) -> str:
        return f"S-{self.number}"


class SurveyView(Base):
    """What the cards of an open anonymous survey show: counts redrawn in batches only, so
    nobody watching a card learns one person's choice. A table of its own, so recording an
    answer (which holds a shared lock on the survey row) never writes the survey row."""

    __tablename__ = "survey_views"
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    shown_total: Mapped[int] = mapped_column(Integer, default=0)
    shown_counts: Mapped[str] = mapped_column(Text, default="{}")
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"
    __table_args__ = (
        UniqueConstraint("survey_id", "position"),
        CheckConstraint("kind in ('single', 'multi', 'text')", name="kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(String(500))


class SurveyOption(Base):
    __tablename__ = "survey_options"
    __table_args__ = (UniqueConstraint("question_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))


class SurveyRespondent(Base):
    """That a person responded (once per survey, across platforms) and, for forms, where
    they are. Never what they chose. ``responded_at`` stays empty for anonymous surveys."""

    __tablename__ = "survey_respondents"
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    """True while the person has an answer on record (counted as a respondent)."""
    step: Mapped[int] = mapped_column(Integer, default=0)
    """Forms: the position of the next question to ask."""
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    """Forms: the survey the person is answering in the private chat right now."""
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SurveyChoice(Base):
    """A chosen option of a non-anonymous survey."""

    __tablename__ = "survey_choices"
    __table_args__ = (Index("ix_survey_choices_question_person", "question_id", "person_id"),)
    option_id: Mapped[int] = mapped_column(ForeignKey("survey_options.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyTextAnswer(Base):
    """A free-text answer of a non-anonymous survey."""

    __tablename__ = "survey_text_answers"
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True, index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SurveyTally(Base):
    """How often an option of an anonymous survey was chosen: a count, no person."""

    __tablename__ = "survey_tallies"
    option_id: Mapped[int] = mapped_column(ForeignKey("survey_options.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SurveyAnonText(Base):
    """A free-text answer of an anonymous survey: random id, no person, no time."""

    __tablename__ = "survey_anon_texts"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"), index=True)
    text: Mapped[str] = mapped_column(Text)


class SurveyExport(Base):
    """A CSV export waiting behind a one-time download token (deleted when fetched)."""

    __tablename__ = "survey_exports"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys.id"), index=True, nullable=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    filename: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
