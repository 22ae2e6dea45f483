"""Ideas of a group (``I-n``), one vote per person and idea, comments, and pending drafts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
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

__all__ = ["IDEA_STATUSES", "WITHDRAWN", "Idea", "IdeaComment", "IdeaDraft", "IdeaVote"]

IDEA_STATUSES = ("new", "review", "shortlisted", "project", "done", "rejected")
#: the proposer (or a host) took the idea back; it is shown no more in lists
WITHDRAWN = "withdrawn"


class Idea(Base):
    """One idea, numbered per community; it lives in its group's visibility."""

    __tablename__ = "ideas"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint(
            "status in ('new', 'review', 'shortlisted', 'project', 'done', 'rejected', "
            "'withdrawn')",
            name="status",
        ),
        Index("ix_ideas_group_created", "group_id", "created_at"),
        Index("ix_ideas_group_score", "group_id", "score", "number"),
        Index("ix_ideas_group_number", "group_id", "number"),
        Index("ix_ideas_group_status", "group_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    proposer_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="new")
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    project_group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    showcase_group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The sum of the votes, kept in each vote's transaction (``/ideas top`` orders by it
    instead of summing every vote at read time)."""

    @property
    def ref(self) -> str:
        return f"I-{self.number}"


class IdeaVote(Base):
    """A person's vote on an idea: +1 (support) or -1; at most one per person and idea."""

    __tablename__ = "idea_votes"
    __table_args__ = (
        UniqueConstraint("idea_id", "person_id"),
        CheckConstraint("value in (-1, 1)", name="value"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdeaComment(Base):
    __tablename__ = "idea_comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: deleted comments keep their place, so comment numbers never change
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IdeaDraft(Base):
    """An idea held back while similar ideas are offered; ``Propose anyway`` uses it once."""

    __tablename__ = "idea_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    idea_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id"), nullable=True)
