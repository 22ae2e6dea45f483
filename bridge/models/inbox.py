"""The inbox: every event a platform hands us, stored before the platform is told it was
received (``bridge.inbox``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db import Base, UTCDateTime

__all__ = ["InboxEvent"]


class InboxEvent(Base):
    """One incoming event, keyed by the platform's own id for it (Telegram's update_id,
    Slack's trigger_id or event_id, Discord's interaction id).

    ``pending`` while in hand (``owner`` until ``lease_until``) or waiting to be resumed,
    ``done`` once handled (kept a while against the platform's retries), ``refused`` when
    it was stored only after the person had been told nothing changed, ``failed`` when
    handling it broke ``MAX_ATTEMPTS`` times."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "key"),
        Index("ix_inbox_due", "status", "lease_until"),
        Index("ix_inbox_received", "received_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
