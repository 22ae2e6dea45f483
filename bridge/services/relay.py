"""The relay: a group's linked channels on Slack, Telegram and Discord become one
conversation (``/group set <name> relay``).

A plain message in one linked channel is stored (``relay_messages``) and posted, as a
tracked message ``relay:<id>``, to every other active channel linked to the same group,
through the outbox and its shaping (a burst is delayed, never dropped, and each target
channel gets the messages in the order they were written). The copies' platform ids are
kept (``posted_messages``), so an edit of the original re-draws them, a deletion deletes
them and a reply becomes a reply under the copy in each channel, after any restart.

Echo: the bot's own messages never arrive here (the adapters drop them), and a message
whose id is one of the copies is never relayed again, so a second bridge on the same
channel causes no loop. Visibility: a group's messages only ever reach that group's own
linked channels.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.db import affected, insert_ignore
from bridge.messages import (
    AccountRef,
    Author,
    ChannelRef,
    ChatPost,
    Mention,
    Message,
    Part,
    Text,
    continued,
)
from bridge.models import Channel, ChannelLink, Group, Person, PostedMessage
from bridge.models.relay import RelayMessage
from bridge.outbox import posted_ref
from bridge.services import identity

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["KEEP", "anchor", "deleted", "edited", "posted", "prune", "render"]

#: how long the map between an original and its copies is kept (edits, deletions, replies)
KEEP = timedelta(days=30)
PLATFORM_NAMES = {"slack": "Slack", "telegram": "Telegram", "discord": "Discord"}


def _avatar(url: str | None) -> str | None:
    """A picture the other platforms may fetch: a public https URL, or none."""
    if not url or not url.startswith("https://") or len(url) > 500 or any(c in url for c in ' <>"'):
        return None
    return url


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.capitalize())


async def _relaying_group(session: AsyncSession, ref: ChannelRef) -> Group | None:
    """The group whose relay this channel is part of (an active link, relay on)."""
    return (
        await session.execute(
            select(Group)
            .join(ChannelLink, ChannelLink.group_id == Group.id)
            .join(Channel, Channel.id == ChannelLink.channel_id)
            .where(
                Channel.platform == ref.platform,
                Channel.chat_id == ref.chat,
                Channel.thread_id == ref.thread,
                ChannelLink.active.is_(True),
                Group.relay.is_(True),
            )
        )
    ).scalar_one_or_none()


async def _copy_of(session: AsyncSession, channel_key: str, message_id: str) -> str | None:
    """The ref of the relayed copy a platform id belongs to in this channel (a part of
    it, for a split one), or None: a message of a member, not one of the bridge's."""
    return await posted_ref(session, channel_key, message_id, kind="relay")


async def _is_copy(session: AsyncSession, channel_key: str, message_id: str) -> bool:
    """One of the bridge's copies (a second bridge, or the platform echoing ours)."""
    return await _copy_of(session, channel_key, message_id) is not None


async def _stored(
    session: AsyncSession, channel_key: str, message_id: str, live: bool = False
) -> RelayMessage | None:
    """The original written in this channel with this platform id (``live``: not deleted)."""
    query = select(RelayMessage).where(
        RelayMessage.channel_key == channel_key,
        RelayMessage.platform_message_id == message_id,
    )
    if live:
        query = query.where(RelayMessage.deleted.is_(False))
    return (await session.execute(query)).scalar_one_or_none()


async def _original_of(
    session: AsyncSession, channel_key: str, message_id: str
) -> RelayMessage | None:
    """The relayed message a platform id stands for in this channel: the original written
    here, or the copy of one written elsewhere."""
    found = await _stored(session, channel_key, message_id)
    if found is not None:
        return found
    ref = await _copy_of(session, channel_key, message_id)
    ident = str(ref or "").partition(":")[2]
    return await session.get(RelayMessage, int(ident)) if ident.isdigit() else None


async def posted(session: AsyncSession, bridge: Bridge, post: ChatPost, now: datetime) -> int:
    """A member's plain message: copied to the group's other channels when its relay is on.
    Returns how many channels it goes to (0: not relayed). A platform's retry of the same
    message is stored once and relayed once."""
    group = await _relaying_group(session, post.channel)
    if group is None or not post.text.strip():
        return 0
    if await _is_copy(session, post.channel.key, post.message_id):
        return 0
    assert bridge.community_id is not None
    account = await identity.ensure_account(session, bridge.community_id, post.account, now)
    parent = None
    if post.reply_to:
        parent = await _original_of(session, post.channel.key, post.reply_to)
    mentions = await _mentions(session, bridge, post, now)
    inserted = await session.execute(
        insert_ignore(
            session,
            RelayMessage,
            {
                "group_id": group.id,
                "platform": post.channel.platform,
                "channel_key": post.channel.key,
                "platform_message_id": post.message_id,
                "person_id": account.person_id,
                "author": (post.account.display_name or account.display_name or "?")[:200],
                "avatar_url": _avatar(post.account.avatar_url),
                "text": post.text,
                "reply_to_id": parent.id if parent is not None else None,
                "mentions": mentions,
                "deleted": False,
                "created_at": now,
            },
            ["channel_key", "platform_message_id"],
        )
    )
    if not affected(inserted):
        return 0  # the platform sent it again
    relayed = await _stored(session, post.channel.key, post.message_id)
    assert relayed is not None
    keys = await bridge.outbox.post_to_group(
        session,
        group.id,
        ref_key=f"relay:{relayed.id}",
        reply_to_ref=f"relay:{parent.id}" if parent is not None else None,
        exclude={post.channel.key},
    )
    return len(keys)


async def _mentions(
    session: AsyncSession, bridge: Bridge, post: ChatPost, now: datetime
) -> list[dict[str, Any]]:
    """The persons the message mentions (their accounts on its platform), to be shown by
    name on the others, and pinged there only if they allowed it (``/mentions on``)."""
    assert bridge.community_id is not None
    found: list[dict[str, Any]] = []
    for mentioned in post.mentions[:20]:
        if not mentioned.fragment or mentioned.fragment not in post.text:
            continue
        ref = AccountRef(
            platform=post.channel.platform,
            user_id=mentioned.user_id,
            display_name=mentioned.name,
        )
        account = await identity.find_account(session, ref.platform, ref.user_id)
        if account is None:
            account = await identity.ensure_account(session, bridge.community_id, ref, now)
        name = account.display_name or mentioned.name or mentioned.user_id
        found.append({"fragment": mentioned.fragment, "person_id": account.person_id, "name": name})
    return found


async def _parts(session: AsyncSession, relayed: RelayMessage) -> tuple[Part, ...]:
    """The text with each mention as the person: a native mention on a platform where
    they have an account and allowed it, else their name (never a raw platform id)."""
    mentions = [m for m in relayed.mentions or [] if m.get("fragment")]
    if not mentions:
        return (Text(text=continued(relayed.text)),)
    by_fragment: dict[str, Part] = {}
    for m in mentions:
        person = await session.get(Person, int(m["person_id"]))
        accounts: dict[str, str] = {}
        if person is not None and person.relay_mentions:
            accounts = {a.platform: a.user_id for a in person.accounts}
        by_fragment[m["fragment"]] = Mention(text=str(m["name"]), accounts=accounts)
    pattern = re.compile("|".join(re.escape(f) for f in sorted(by_fragment, key=len, reverse=True)))
    parts: list[Part] = []
    at = 0
    for hit in pattern.finditer(relayed.text):
        if hit.start() > at:
            parts.append(Text(text=continued(relayed.text[at : hit.start()])))
        parts.append(by_fragment[hit.group(0)])
        at = hit.end()
    if at < len(relayed.text):
        parts.append(Text(text=continued(relayed.text[at:])))
    return tuple(parts)


async def edited(
    session: AsyncSession, bridge: Bridge, channel: ChannelRef, message_id: str, text: str
) -> bool:
    """The original was edited: its copies are re-drawn."""
    relayed = await _stored(session, channel.key, message_id, live=True)
    if relayed is None or relayed.text == text:
        return False
    relayed.text = text
    relayed.edited_at = bridge.clock.now()
    await bridge.outbox.refresh(session, f"relay:{relayed.id}", delay=timedelta(0))
    return True


async def deleted(
    session: AsyncSession, bridge: Bridge, channel: ChannelRef, message_id: str
) -> bool:
    """The original was deleted: so are its copies."""
    relayed = await _stored(session, channel.key, message_id, live=True)
    if relayed is None:
        return False
    relayed.deleted = True
    relayed.text = ""
    await bridge.outbox.delete_copies(session, f"relay:{relayed.id}")
    return True


async def anchor(session: AsyncSession, ref_key: str, channel_key: str) -> str | None:
    """A reply in the channel where the relayed message was written goes under the
    original (no copy of it was posted there)."""
    ident = ref_key.partition(":")[2]
    relayed = await session.get(RelayMessage, int(ident)) if ident.isdigit() else None
    if relayed is None or relayed.channel_key != channel_key:
        return None
    return relayed.platform_message_id


async def render(session: AsyncSession, bridge: Bridge, ident: str, locale: str) -> Message | None:
    """A copy: the original's current text, its author and platform beside it."""
    relayed = await session.get(RelayMessage, int(ident)) if ident.isdigit() else None
    if relayed is None or relayed.deleted:
        return None
    return Message(
        parts=await _parts(session, relayed),
        author=Author(
            name=relayed.author,
            platform=platform_name(relayed.platform),
            avatar_url=relayed.avatar_url,
        ),
    )


async def prune(session: AsyncSession, now: datetime, keep: timedelta = KEEP) -> int:
    """Forget the map of messages older than ``keep``: later edits no longer follow."""
    old = select(RelayMessage.id).where(RelayMessage.created_at < now - keep)
    ids = list((await session.execute(old)).scalars())
    if not ids:
        return 0
    await session.execute(
        delete(PostedMessage).where(PostedMessage.ref_key.in_([f"relay:{i}" for i in ids]))
    )
    await session.execute(delete(RelayMessage).where(RelayMessage.id.in_(ids)))
    return len(ids)
