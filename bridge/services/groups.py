"""Groups, channels and the links between them; who may see a group's content."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.db import affected, insert_ignore
from bridge.errors import NotFound, UserError
from bridge.i18n import N_
from bridge.messages import ChannelRef
from bridge.models import Channel, ChannelLink, Group, RoleGrant

__all__ = [
    "create_group",
    "ensure_channel",
    "find_channel",
    "get_group",
    "link_channel",
    "linked_channels",
    "may_show",
    "showable_group_ids",
    "showcase_group",
    "slugify",
    "unlink_channel",
    "visible_groups",
]


def slugify(name: str) -> str:
    """``Ideen-Raum Süd`` → ``ideen-raum-sud``: the name people type in commands."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:64]


async def get_group(session: AsyncSession, community_id: int, name: str) -> Group:
    slug = slugify(name.lstrip("#"))
    group = (
        await session.execute(
            select(Group).where(Group.community_id == community_id, Group.slug == slug)
        )
    ).scalar_one_or_none()
    if group is None:
        raise NotFound(
            N_("There is no group called {name}. An admin can create it with /group new {name}."),
            name=slug or name,
        )
    return group


async def create_group(
    session: AsyncSession,
    community_id: int,
    name: str,
    visibility: str,
    now: datetime,
    created_by: int | None,
    showcase: bool = False,
    hostdesk: bool = False,
) -> Group:
    """A new group; the name must be free (enforced by the unique constraint)."""
    slug = slugify(name)
    if not slug:
        raise UserError(N_("A group name needs letters or digits."))
    result = await session.execute(
        insert_ignore(
            session,
            Group,
            {
                "community_id": community_id,
                "slug": slug,
                "name": name,
                "visibility": visibility,
                "showcase": False,
                "hostdesk": hostdesk,
                "hosts_run_surveys": False,
                "created_by_id": created_by,
                "created_at": now,
            },
            ["community_id", "slug"],
        )
    )
    if affected(result) == 0:
        raise UserError(N_("A group called {name} exists already."), name=slug)
    group = (
        await session.execute(
            select(Group).where(Group.community_id == community_id, Group.slug == slug)
        )
    ).scalar_one()
    if showcase:
        await set_showcase(session, group, True)
    return group


async def set_showcase(session: AsyncSession, group: Group, on: bool) -> None:
    """Make ``group`` the community's one showcase (the flag moves from any other group)."""
    if on:
        await session.execute(
            update(Group)
            .where(Group.community_id == group.community_id, Group.id != group.id)
            .values(showcase=False)
        )
        await session.flush()
    group.showcase = on
    await session.flush()


async def showcase_group(session: AsyncSession, community_id: int) -> Group | None:
    return (
        await session.execute(
            select(Group).where(Group.community_id == community_id, Group.showcase.is_(True))
        )
    ).scalar_one_or_none()


async def find_channel(session: AsyncSession, ref: ChannelRef) -> Channel | None:
    return (
        await session.execute(
            select(Channel).where(
                Channel.platform == ref.platform,
                Channel.chat_id == ref.chat,
                Channel.thread_id == ref.thread,
            )
        )
    ).scalar_one_or_none()


async def ensure_channel(
    session: AsyncSession, community_id: int, ref: ChannelRef, name: str | None, now: datetime
) -> Channel:
    channel = await find_channel(session, ref)
    if channel is None:
        await session.execute(
            insert_ignore(
                session,
                Channel,
                {
                    "community_id": community_id,
                    "platform": ref.platform,
                    "chat_id": ref.chat,
                    "thread_id": ref.thread,
                    "name": name or ref.chat,
                    "created_at": now,
                },
                ["platform", "chat_id", "thread_id"],
            )
        )
        channel = await find_channel(session, ref)
        assert channel is not None
    elif name and channel.name != name:
        channel.name = name
    return channel


async def link_channel(
    session: AsyncSession, channel: Channel, group: Group, by: int | None, now: datetime
) -> None:
    """Link a channel to a group (moving an existing link, re-activating a paused one)."""
    link = (
        await session.execute(select(ChannelLink).where(ChannelLink.channel_id == channel.id))
    ).scalar_one_or_none()
    if link is None:
        await session.execute(
            insert_ignore(
                session,
                ChannelLink,
                {
                    "channel_id": channel.id,
                    "group_id": group.id,
                    "active": True,
                    "linked_by_id": by,
                    "linked_at": now,
                },
                ["channel_id"],
            )
        )
        return
    link.group_id = group.id
    link.active = True
    link.inactive_reason = None
    link.linked_by_id = by
    link.linked_at = now
    await session.flush()


async def unlink_channel(session: AsyncSession, channel: Channel) -> Group | None:
    link = (
        await session.execute(select(ChannelLink).where(ChannelLink.channel_id == channel.id))
    ).scalar_one_or_none()
    if link is None:
        return None
    group = await session.get(Group, link.group_id)
    await session.delete(link)
    await session.flush()
    return group


async def linked_channels(
    session: AsyncSession, group_id: int, active_only: bool = True
) -> list[Channel]:
    stmt = (
        select(Channel)
        .join(ChannelLink, ChannelLink.channel_id == Channel.id)
        .where(ChannelLink.group_id == group_id)
        .order_by(Channel.id)
    )
    if active_only:
        stmt = stmt.where(ChannelLink.active.is_(True))
    return list((await session.execute(stmt)).scalars().all())


async def visible_groups(
    session: AsyncSession,
    community_id: int,
    person_id: int,
    is_admin: bool,
    here_group_id: int | None = None,
) -> list[Group]:
    """Groups a person may see: internal and public ones, closed ones they belong to (or the
    one of the channel they are in), every group for admins."""
    groups = (
        (
            await session.execute(
                select(Group).where(Group.community_id == community_id).order_by(Group.slug)
            )
        )
        .scalars()
        .all()
    )
    if is_admin:
        return list(groups)
    mine = set(
        (
            await session.execute(
                select(RoleGrant.group_id).where(
                    RoleGrant.person_id == person_id, RoleGrant.group_id.is_not(None)
                )
            )
        )
        .scalars()
        .all()
    )
    return [g for g in groups if g.visibility != "closed" or g.id in mine or g.id == here_group_id]


async def may_show(
    session: AsyncSession,
    group: Group,
    person_id: int,
    here_group_id: int | None,
    in_dm: bool,
    is_admin: bool,
) -> bool:
    """May content of ``group`` be shown here, to this person? The one visibility rule.

    Internal and public groups: to every member of the community. A closed group's content
    only in its own linked channels, or privately to its members (and admins); never in
    another group's channel, whoever asks there (a reply "only for you" may land in the
    channel on platforms without private replies).
    """
    return group.id in await showable_group_ids(
        session, group.community_id, person_id, here_group_id, in_dm, is_admin, only=group
    )


async def showable_group_ids(
    session: AsyncSession,
    community_id: int,
    person_id: int,
    here_group_id: int | None,
    in_dm: bool,
    is_admin: bool,
    only: Group | None = None,
) -> set[int]:
    """The ids of the groups whose content ``may_show`` here (``only``: check just that one)."""
    stmt = select(Group.id, Group.visibility).where(Group.community_id == community_id)
    if only is not None:
        stmt = stmt.where(Group.id == only.id)
    rows = (await session.execute(stmt)).all()
    shown = {gid for gid, visibility in rows if visibility != "closed" or gid == here_group_id}
    closed = {gid for gid, _v in rows} - shown
    if not closed or not in_dm:
        return shown
    if is_admin:
        return shown | closed
    mine = (
        (
            await session.execute(
                select(RoleGrant.group_id).where(
                    RoleGrant.person_id == person_id, RoleGrant.group_id.in_(closed)
                )
            )
        )
        .scalars()
        .all()
    )
    return shown | {gid for gid in mine if gid is not None}
