"""Groups, channels and the links between them; who may see a group's content."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bridge.db import affected, insert_ignore
from bridge.errors import NotFound, UserError, check_length
from bridge.i18n import N_
from bridge.messages import Bold, ChannelRef, Code, Message, Text
from bridge.models import Channel, ChannelLink, Group, RoleGrant

if TYPE_CHECKING:
    from bridge.context import Context

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


NAME_MAX = 64  # a group's name: typed in commands


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
    check_length(name, NAME_MAX, N_("The group name"))
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
    """The channel with its link and group, in one query (every command asks for them)."""
    return (
        (
            await session.execute(
                select(Channel)
                .where(
                    Channel.platform == ref.platform,
                    Channel.chat_id == ref.chat,
                    Channel.thread_id == ref.thread,
                )
                .options(joinedload(Channel.link).joinedload(ChannelLink.group))
            )
        )
        .unique()
        .scalar_one_or_none()
    )


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
    rows: Sequence[tuple[int, str]]
    if only is not None:  # loaded already: its visibility is at hand
        rows = [(only.id, only.visibility)]
    else:
        rows = [
            (int(gid), str(visibility))
            for gid, visibility in (
                await session.execute(
                    select(Group.id, Group.visibility).where(Group.community_id == community_id)
                )
            ).all()
        ]
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


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


VISIBILITY = ("closed", "internal", "public")


def _flags(ctx: Context, group: Group) -> str:
    flags = [ctx._(group.visibility)]
    if group.showcase:
        flags.append(ctx._("showcase"))
    if group.hostdesk:
        flags.append(ctx._("host desk"))
    if group.relay:
        flags.append(ctx._("relay"))
    return ", ".join(flags)


async def groups(ctx: Context) -> None:
    found = await visible_groups(
        ctx.session,
        ctx.community.id,
        ctx.person_id,
        ctx.is_admin,
        ctx.group.id if ctx.group else None,
    )
    if not found:
        ctx.reply(ctx._("There are no groups yet. An admin can create one with /group new <name>."))
        return
    parts: list = [ctx._("Groups:")]
    for group in found:
        channels = await linked_channels(ctx.session, group.id, active_only=False)
        parts.append("\n• ")
        parts.append(Bold(text=group.slug))
        parts.append(f" ({_flags(ctx, group)})")
        if channels:
            names = ", ".join(
                f"{c.name or c.chat_id} [{c.platform}]"
                + ("" if c.link is None or c.link.active else " " + ctx._("(paused)"))
                for c in channels
            )
            parts.append(" — " + names)
        else:
            parts.append(" — " + ctx._("no linked channel"))
    ctx.reply(*parts)


async def group_new(
    ctx: Context, name: str, visibility: str | None, showcase: bool, hostdesk: bool
) -> None:
    group = await create_group(
        ctx.session,
        ctx.community.id,
        name,
        visibility or "internal",
        ctx.now,
        ctx.person_id,
        showcase=showcase,
        hostdesk=hostdesk,
    )
    await ctx.audit(
        "group.create",
        group.slug,
        visibility=group.visibility,
        showcase=showcase,
        hostdesk=hostdesk,
    )
    ctx.reply(
        *ctx.fmt(
            N_("Created group {name} ({flags}). Link a channel to it with {command}."),
            name=Bold(text=group.slug),
            flags=_flags(ctx, group),
            command=Code(text=f"/link {group.slug}"),
        )
    )


SETTINGS = (*VISIBILITY, "showcase", "hostdesk", "relay", "-showcase", "-hostdesk", "-relay")


async def group_set(ctx: Context, name: str, setting: str) -> None:
    group = await get_group(ctx.session, ctx.community.id, name)
    before = _flags(ctx, group)
    if setting in VISIBILITY:
        if group.visibility == setting:
            raise UserError(
                N_("The group {name} is {setting} already."),
                name=group.slug,
                setting=ctx._(setting),
            )
        group.visibility = setting
        if setting == "closed":  # e.g. its ideas leave the showcase now
            for content in ctx.bridge.registry.group_content:
                if content.closed is not None:
                    await content.closed(ctx.session, ctx.bridge, group.id)
    elif setting.endswith("showcase"):
        on = not setting.startswith("-")
        if group.showcase == on:
            raise UserError(
                N_("Nothing to change: {name} is {flags}."), name=group.slug, flags=before
            )
        await set_showcase(ctx.session, group, on)
    elif setting.endswith("relay"):
        on = not setting.startswith("-")
        if group.relay == on:
            raise UserError(
                N_("Nothing to change: {name} is {flags}."), name=group.slug, flags=before
            )
        group.relay = on
        await _relay_notice(ctx, group, on)
    else:
        on = not setting.startswith("-")
        if group.hostdesk == on:
            raise UserError(
                N_("Nothing to change: {name} is {flags}."), name=group.slug, flags=before
            )
        group.hostdesk = on
    await ctx.session.flush()
    await ctx.audit("group.set", group.slug, setting=setting, before=before)
    ctx.reply(
        *ctx.fmt(
            N_("Group {name} is now {flags}."), name=Bold(text=group.slug), flags=_flags(ctx, group)
        )
    )


async def _relay_notice(ctx: Context, group: Group, on: bool) -> None:
    """Every linked channel is told that its messages are now shared (with which
    channels), or no longer; the admin learns what each platform still needs."""
    from bridge.services.relay import platform_name

    channels = await linked_channels(ctx.session, group.id)
    for channel in channels:
        others = [c for c in channels if c.key != channel.key]
        if on:
            names = ", ".join(
                f"{c.name or c.chat_id} ({platform_name(c.platform)})" for c in others
            ) or ctx._("none yet")
            text = ctx._(
                "Messages in this channel are now shared with the other channels of the "
                "group {name}: {channels}. Each copy shows who wrote it and where."
            ).format(name=group.slug, channels=names)
        else:
            text = ctx._(
                "Messages in this channel are no longer shared with the other channels of "
                "the group {name}."
            ).format(name=group.slug)
        await ctx.bridge.outbox.post(ctx.session, channel.key, Message(parts=(Text(text=text),)))
    if not on:
        return
    for platform in sorted({c.platform for c in channels}):
        adapter = ctx.bridge.adapters.get(platform)
        need = adapter.relay_needs() if adapter is not None else None
        if need:
            ctx.reply(ctx._(need))


# ------------------------------------------------------------------ /link and /unlink


def _channel(ctx: Context) -> Channel:
    if ctx.channel is None:
        raise UserError(N_("Private chats cannot be linked; use /link in a channel or group."))
    return ctx.channel


async def link(ctx: Context, group: str) -> None:
    channel = _channel(ctx)
    target = await get_group(ctx.session, ctx.community.id, group)
    current = ctx.link
    if current is not None and current.group_id == target.id and current.active:
        raise UserError(N_("This channel is linked to {group} already."), group=target.slug)
    before = current.group_id if current is not None else None
    await link_channel(ctx.session, channel, target, ctx.person_id, ctx.now)
    await ctx.audit("channel.link", channel.key, group=target.slug)
    if before is not None and before != target.id:
        ctx.say(
            *ctx.fmt(
                N_("This channel now shows the group {group} (it showed another group before)."),
                group=Bold(text=target.slug),
            )
        )
    else:
        ctx.say(
            *ctx.fmt(
                N_(
                    "This channel is now linked to the group {group}. Type /help to "
                    "see what you can do here."
                ),
                group=Bold(text=target.slug),
            )
        )
    if target.relay:  # its messages are shared from now on: every channel hears of it
        await ctx.session.flush()
        await _relay_notice(ctx, target, True)


async def unlink(ctx: Context) -> None:
    channel = _channel(ctx)
    group = await unlink_channel(ctx.session, channel)
    if group is None:
        raise UserError(N_("This channel is not linked to a group."))
    await ctx.audit("channel.unlink", channel.key, group=group.slug)
    ctx.say(
        *ctx.fmt(N_("This channel no longer shows the group {group}."), group=Bold(text=group.slug))
    )


# ------------------------------------------------------------------ /group rename and delete


async def group_rename(ctx: Context, name: str, new: str) -> None:
    group = await get_group(ctx.session, ctx.community.id, name)
    check_length(new, NAME_MAX, N_("The group name"))
    slug = slugify(new)
    if not slug:
        raise UserError(N_("A group name needs letters or digits."))
    if slug == group.slug:
        raise UserError(N_("The group is called {name} already."), name=slug)
    taken = (
        await ctx.session.execute(
            select(Group.id).where(Group.community_id == ctx.community.id, Group.slug == slug)
        )
    ).first()
    if taken is not None:
        raise UserError(N_("There is a group called {name} already."), name=slug)
    before = group.slug
    group.slug, group.name = slug, new
    await ctx.session.flush()
    await ctx.audit("group.rename", before, to=slug)
    ctx.reply(
        *ctx.fmt(
            N_("The group {before} is now called {name}."),
            before=before,
            name=Bold(text=slug),
        )
    )


async def group_delete(ctx: Context, name: str, force: bool) -> None:
    """Only an empty group, unless ``force``: then its content goes with it."""
    group = await get_group(ctx.session, ctx.community.id, name)
    registry = ctx.bridge.registry
    counts = {c.name: await c.count(ctx.session, group.id) for c in registry.group_content}
    held = {k: n for k, n in counts.items() if n}
    if held and not force:
        listed = ", ".join(f"{n} {ctx._(k)}" for k, n in held.items())
        raise UserError(
            N_("The group {name} still has {content}. Delete it with all of it: {command}"),
            name=group.slug,
            content=listed,
            command=f"/group delete {group.slug} force",
        )
    for content in registry.group_content:
        await content.delete(ctx.session, group.id)
    links = await ctx.session.execute(delete(ChannelLink).where(ChannelLink.group_id == group.id))
    await ctx.session.execute(delete(RoleGrant).where(RoleGrant.group_id == group.id))
    await ctx.audit("group.delete", group.slug, **{k: n for k, n in counts.items()})
    slug = group.slug
    await ctx.session.delete(group)
    await ctx.session.flush()
    ctx.reply(
        *ctx.fmt(N_("Deleted the group {name}."), name=Bold(text=slug)),
        " "
        + ctx.ngettext(
            "{n} channel is unlinked.", "{n} channels are unlinked.", affected(links)
        ).format(n=affected(links)),
    )
