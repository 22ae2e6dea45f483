"""Questions to the hosts (``Q-n``), their answers, and drafts held while similar ones are shown."""

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

__all__ = ["Question", "QuestionAnswer", "QuestionDraft"]

QUESTION_STATUSES = ("open", "answered", "closed")


class Question(Base):
    """A question to the hosts, numbered per community (``Q-3``).

    ``origin_channel_key`` is where it was asked (``platform:chat[/thread]``): answers go
    back there. ``first_response_at`` is the first answer by anyone, ``answered_at`` the
    first host answer (or the asker accepting a member's answer): the figures ``/stats``
    reports. ``accepted_answer_id`` names a row of ``question_answers`` (no foreign key, to
    keep the two tables free of a cycle).
    """

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint("status in ('open', 'answered', 'closed')", name="status"),
        Index("ix_questions_open", "community_id", "status", "asked_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    number: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    asker_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    asker_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    origin_channel_key: Mapped[str] = mapped_column(String(300))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_answer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def ref(self) -> str:
        return f"Q-{self.number}"


class QuestionAnswer(Base):
    """One answer to a question, numbered per question (``answer 2``)."""

    __tablename__ = "question_answers"
    __table_args__ = (UniqueConstraint("question_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    author_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(Text)
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class QuestionDraft(Base):
    """A question held back while similar answered ones are shown; used once.

    ``outcome`` is ``helped`` (a suggestion answered it) or ``asked`` (``question_id``).
    """

    __tablename__ = "question_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    origin_channel_key: Mapped[str] = mapped_column(String(300))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    suggested: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), nullable=True)
