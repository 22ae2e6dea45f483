"""The partner network: trades, profiles, references (``R-n``) and recommendations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db import Base, UTCDateTime

__all__ = ["Profile", "Recommendation", "Reference", "Trade"]


class Trade(Base):
    """A trade profiles choose from (the admins keep the list)."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("community_id", "slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Profile(Base):
    """A person's profile (across their joined accounts): what they choose to show."""

    __tablename__ = "profiles"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    company: Mapped[str] = mapped_column(String(120), default="")
    trade_id: Mapped[int | None] = mapped_column(ForeignKey("trades.id"), nullable=True)
    region: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: editing field by field in the private chat: the field asked next, and when
    edit_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    edit_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Reference(Base):
    """``R-n``: a completed project on a profile; it names a customer only once they
    confirmed it."""

    __tablename__ = "partner_references"
    __table_args__ = (UniqueConstraint("community_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    number: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def ref(self) -> str:
        return f"R-{self.number}"


class Recommendation(Base):
    """A member recommends a partner, once; hosts approve it before it shows."""

    __tablename__ = "recommendations"
    __table_args__ = (
        UniqueConstraint("partner_id", "recommender_id"),
        CheckConstraint("status in ('pending', 'approved', 'rejected')", name="status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    recommender_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
