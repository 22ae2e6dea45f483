"""Core records: community, persons and their platform accounts, groups, channels, links,
roles, the audit log, the outbox, delivered-message ids, deadlines and processed events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bridge.db import Base, UTCDateTime

__all__ = [
    "Account",
    "AuditEntry",
    "Channel",
    "ChannelLink",
    "Community",
    "ConnectCode",
    "Counter",
    "Deadline",
    "Group",
    "OutboxRow",
    "Person",
    "PostedMessage",
    "ProcessedEvent",
    "RoleGrant",
    "SendWindow",
    "Setting",
]

VISIBILITIES = ("closed", "internal", "public")
ROLES = ("member", "host", "admin")


class Community(Base):
    __tablename__ = "communities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Counter(Base):
    """Per-community numbering of records (I-n, Q-n, S-n): one row per kind, row-locked."""

    __tablename__ = "counters"
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Person(Base):
    """A human, who may own accounts on several platforms."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: private notifications: "on", "off" or "digest" (one summary a day)
    notify: Mapped[str] = mapped_column(String(8), default="on", server_default="on")
    #: a relayed mention of them may ping them on their other platforms (``/mentions on``)
    relay_mentions: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    accounts: Mapped[list[Account]] = relationship(
        back_populates="person", lazy="selectin", foreign_keys="Account.person_id"
    )


class Account(Base):
    """A platform identity (``slack:U0123``), owned by one person."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    dm_open: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    person: Mapped[Person] = relationship(back_populates="accounts", foreign_keys=[person_id])

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (
        UniqueConstraint("community_id", "slug"),
        CheckConstraint("visibility in ('closed', 'internal', 'public')", name="visibility"),
        Index(
            "uq_groups_one_showcase",
            "community_id",
            unique=True,
            sqlite_where=text("showcase"),
            postgresql_where=text("showcase"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    visibility: Mapped[str] = mapped_column(String(16), default="internal")
    showcase: Mapped[bool] = mapped_column(Boolean, default=False)
    hostdesk: Mapped[bool] = mapped_column(Boolean, default=False)
    hosts_run_surveys: Mapped[bool] = mapped_column(Boolean, default=False)
    #: plain messages of its linked channels are copied to the others (bridge.services.relay)
    relay: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Channel(Base):
    """A place on a platform: chat/channel id plus topic/thread id ('' when none)."""

    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "thread_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    chat_id: Mapped[str] = mapped_column(String(128))
    thread_id: Mapped[str] = mapped_column(String(128), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    link: Mapped[ChannelLink | None] = relationship(back_populates="channel", lazy="selectin")

    @property
    def key(self) -> str:
        base = f"{self.platform}:{self.chat_id}"
        return f"{base}/{self.thread_id}" if self.thread_id else base


class ChannelLink(Base):
    """A channel linked to a group: content of the group is shown there. One group a channel."""

    __tablename__ = "channel_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[Channel] = relationship(back_populates="link", lazy="selectin")
    group: Mapped[Group] = relationship(lazy="selectin")


class RoleGrant(Base):
    """A role of a person, community-wide (group_id NULL) or for one group."""

    __tablename__ = "role_grants"
    __table_args__ = (
        CheckConstraint("role in ('member', 'host', 'admin')", name="role"),
        Index(
            "uq_role_grants_community",
            "person_id",
            "role",
            unique=True,
            sqlite_where=text("group_id IS NULL"),
            postgresql_where=text("group_id IS NULL"),
        ),
        Index(
            "uq_role_grants_group",
            "person_id",
            "role",
            "group_id",
            unique=True,
            sqlite_where=text("group_id IS NOT NULL"),
            postgresql_where=text("group_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id"), nullable=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only log of every change an admin or host makes."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise PermissionError(f"the audit log is append-only (entry {target.id})")


class ConnectCode(Base):
    """A one-time code that joins another account to the person who asked for it."""

    __tablename__ = "connect_codes"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ProcessedEvent(Base):
    """Platform event ids already handled: a retried event changes nothing."""

    __tablename__ = "processed_events"
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxRow(Base):
    """A message to deliver (kind 'send') or a tracked message to re-render (kind 'refresh').

    Written in the transaction of the change that caused it; the delivery worker claims it
    with a lease, hands it to the adapter and records the platform's message id.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "platform", "not_before"),
        # every refresh looks up the card's rows in flight: no scan of the backlog
        Index("ix_outbox_ref", "ref_key", "status"),
        # a channel's earlier rows in flight hold its later ones back (order per channel)
        Index("ix_outbox_channel", "channel_key", "status", "id"),
        Index(
            "uq_outbox_pending_dedupe",
            "dedupe_key",
            unique=True,
            sqlite_where=text("status = 'pending' AND dedupe_key IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND dedupe_key IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="send")
    platform: Mapped[str] = mapped_column(String(32))
    channel_key: Mapped[str] = mapped_column(String(300), default="")
    ref_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reply_to_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PostedMessage(Base):
    """Where a tracked message (an idea card, a survey) was posted: kept for edits and threads."""

    __tablename__ = "posted_messages"
    __table_args__ = (
        UniqueConstraint("ref_key", "channel_key"),
        # the relay looks a platform id up in a channel (is it one of the copies?)
        Index("ix_posted_channel_message", "channel_key", "platform_message_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref_key: Mapped[str] = mapped_column(String(200), index=True)
    channel_key: Mapped[str] = mapped_column(String(300))
    platform: Mapped[str] = mapped_column(String(32))
    platform_message_id: Mapped[str] = mapped_column(String(2000))
    """The ids of a split message's parts, with spaces between (bridge.splitting)."""
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Deadline(Base):
    """A stored deadline (reminder, closing time). Fired once, in the transaction of its effect."""

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_due", "fired_at", "due_at"),
        Index(
            "uq_deadlines_pending",
            "kind",
            "ref",
            unique=True,
            sqlite_where=text("fired_at IS NULL"),
            postgresql_where=text("fired_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fired_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Setting(Base):
    """Shared settings of all bot processes (for example the button signing key)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SendWindow(Base):
    """The send times of one platform limit and key (a chat, a whole platform), shared by
    every process on one PostgreSQL (bridge.shaping.DatabaseWindows): a JSON list of
    epoch seconds inside the limit's window, the row locked while a slot is reserved."""

    __tablename__ = "send_windows"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    times: Mapped[str] = mapped_column(Text, default="[]")
