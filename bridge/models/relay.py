"""The relay: plain messages of a group's linked channels, copied to its other channels.

One row per original message; its copies are the ``posted_messages`` of ref
``relay:<id>`` (platform ids per channel), so edits, deletions and replies find them after
any restart. Pruned after ``[relay] keep`` (``Deadlines.prune``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db import Base, UTCDateTime

__all__ = ["RelayMessage"]


class RelayMessage(Base):
    __tablename__ = "relay_messages"
    __table_args__ = (
        UniqueConstraint("channel_key", "platform_message_id"),
        Index("ix_relay_created", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    channel_key: Mapped[str] = mapped_column(String(300))
    platform_message_id: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(200))
    avatar_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    #: who it mentions: [{"fragment": "<@U1>", "person_id": 3, "name": "Bob"}, ...]
    mentions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list, nullable=True)
    reply_to_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
