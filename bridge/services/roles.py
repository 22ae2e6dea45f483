"""Roles: member, host, admin; community-wide or for one group. Admin includes host."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, delete, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, contains_eager
from sqlalchemy.sql.elements import ColumnElement

from bridge.db import affected, insert_ignore
from bridge.errors import UserError
from bridge.i18n import N_
from bridge.messages import AccountRef, Bold, ChannelRef, Part
from bridge.models import Account, Channel, ChannelLink, Group, Person, RoleGrant
from bridge.services import groups as groups_svc
from bridge.services import identity

if TYPE_CHECKING:
    from bridge.context import Context

__all__ = [
    "admin_person_ids",
    "grant",
    "has_role",
    "host_person_ids",
    "is_host",
    "known_here",
    "rank_of",
]

RANK = {"member": 1, "host": 2, "admin": 3}


def _rank(person_id: Any, group_id: Any, bootstrap_admins: Iterable[str]) -> Any:
    """The rank as SQL, for ``rank_of`` and ``known_here`` alike: the highest role that
    counts here (community-wide, or for ``group_id``; a group admin counts as that group's
    host), admin for a person with an account named in bot.toml, else member."""
    value = case(
        (and_(RoleGrant.role == "admin", RoleGrant.group_id.is_(None)), RANK["admin"]),
        (RoleGrant.role.in_(("admin", "host")), RANK["host"]),
        else_=RANK["member"],
    )
    here: ColumnElement[bool] = RoleGrant.group_id.is_(None)
    if group_id is not None:
        here = or_(here, RoleGrant.group_id == group_id)
    best = select(func.max(value)).where(RoleGrant.person_id == person_id, here)
    rank: Any = func.coalesce(best.scalar_subquery(), RANK["member"])
    admins = sorted(set(bootstrap_admins))
    if admins:  # one of the person's accounts is named in bot.toml
        other = aliased(Account)
        named = exists().where(
            other.person_id == person_id, (other.platform + ":" + other.user_id).in_(admins)
        )
        rank = case((named, RANK["admin"]), else_=rank)
    return rank


async def rank_of(
    session: AsyncSession,
    person_id: int,
    group_id: int | None,
    bootstrap_admins: Iterable[str] = (),
) -> int:
    """1 member, 2 host, 3 admin: the highest role that counts here (community or group)."""
    rank = _rank(literal(person_id), group_id, bootstrap_admins)
    return int((await session.execute(select(rank))).scalar_one())


async def known_here(
    session: AsyncSession,
    account: AccountRef,
    channel: ChannelRef,
    bootstrap_admins: Iterable[str] = (),
) -> tuple[Account, Channel | None, int] | None:
    """Who and where in one query: the account, the channel with its link and group (None
    in a private chat) and the person's rank there. None when either is new (the first
    event of a person or in a channel), which ``Bridge.context`` then creates."""
    stmt = _known_here(channel.dm, tuple(sorted(set(bootstrap_admins))))
    params = {"platform": account.platform, "user_id": account.user_id}
    if not channel.dm:
        params |= {
            "chat_platform": channel.platform,
            "chat": channel.chat,
            "thread": channel.thread,
        }
    row = (await session.execute(stmt, params)).first()
    if row is None:
        return None
    return (row[0], None, int(row[1])) if channel.dm else (row[0], row[1], int(row[2]))


@functools.lru_cache(maxsize=8)
def _known_here(dm: bool, admins: tuple[str, ...]) -> Any:
    """``known_here``'s statement, built once (every event runs it; building a statement
    costs more than running it): the account and chat come as parameters."""
    mine = [
        Account.platform == bindparam("platform"),
        Account.user_id == bindparam("user_id"),
    ]
    if dm:
        return select(Account, _rank(Account.person_id, None, admins)).where(*mine)
    group_id = case((ChannelLink.active.is_(True), ChannelLink.group_id))
    return (
        select(Account, Channel, _rank(Account.person_id, group_id, admins))
        .join(
            Channel,
            and_(
                Channel.platform == bindparam("chat_platform"),
                Channel.chat_id == bindparam("chat"),
                Channel.thread_id == bindparam("thread"),
            ),
        )
        .outerjoin(ChannelLink, ChannelLink.channel_id == Channel.id)
        .outerjoin(Group, Group.id == ChannelLink.group_id)
        .options(contains_eager(Channel.link).contains_eager(ChannelLink.group))
        .where(*mine)
    )


async def is_host(
    session: AsyncSession,
    person_id: int,
    group_id: int | None,
    bootstrap_admins: Iterable[str] = (),
) -> bool:
    """A host of the group or of the community (admins included): the one spelling."""
    return await has_role(session, person_id, "host", group_id, bootstrap_admins)


async def has_role(
    session: AsyncSession,
    person_id: int,
    role: str,
    group_id: int | None = None,
    bootstrap_admins: Iterable[str] = (),
) -> bool:
    return await rank_of(session, person_id, group_id, bootstrap_admins) >= RANK[role]


async def grant(
    session: AsyncSession,
    person_id: int,
    role: str,
    group_id: int | None,
    by: int | None,
    now: datetime,
) -> bool:
    """Grant a role; False when the person had it already."""
    where = RoleGrant.group_id.is_(None) if group_id is None else RoleGrant.group_id.is_not(None)
    elements = ["person_id", "role"] if group_id is None else ["person_id", "role", "group_id"]
    result = await session.execute(
        insert_ignore(
            session,
            RoleGrant,
            {
                "person_id": person_id,
                "role": role,
                "group_id": group_id,
                "granted_by_id": by,
                "granted_at": now,
            },
            elements,
            index_where=where,
        )
    )
    return bool(affected(result))


async def host_person_ids(session: AsyncSession, group_id: int | None) -> list[int]:
    """Hosts of a group, falling back to the community's hosts and admins."""
    if group_id is not None:
        ids = (
            (
                await session.execute(
                    select(RoleGrant.person_id).where(
                        RoleGrant.group_id == group_id, RoleGrant.role.in_(("host", "admin"))
                    )
                )
            )
            .scalars()
            .all()
        )
        if ids:
            return sorted(set(ids))
    ids = (
        (
            await session.execute(
                select(RoleGrant.person_id).where(
                    RoleGrant.group_id.is_(None), RoleGrant.role == "host"
                )
            )
        )
        .scalars()
        .all()
    )
    return sorted(set(ids))


async def admin_person_ids(session: AsyncSession) -> list[int]:
    ids = (
        (
            await session.execute(
                select(RoleGrant.person_id).where(
                    RoleGrant.group_id.is_(None), RoleGrant.role == "admin"
                )
            )
        )
        .scalars()
        .all()
    )
    return sorted(set(ids))


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


ROLES = ("member", "host", "admin")


async def role(ctx: Context, person: str, role: str, group: str | None) -> None:
    account = await ctx.resolve_account(person)
    target_group = (
        await groups_svc.get_group(ctx.session, ctx.community.id, group) if group else None
    )
    if role == "admin" and target_group is not None:
        raise UserError(N_("Admins are community-wide; grant 'host' for one group."))
    added = await grant(
        ctx.session,
        account.person_id,
        role,
        target_group.id if target_group else None,
        ctx.person_id,
        ctx.now,
    )
    who = identity.mention(account)
    where = target_group.slug if target_group else ctx._("the whole community")
    if not added:
        raise UserError(
            N_("{who} is {role} in {where} already."),
            who=f"@{who.text}",
            role=ctx._(role),
            where=where,
        )
    await ctx.audit(
        "role.grant", account.key, role=role, group=target_group.slug if target_group else None
    )
    ctx.reply(
        *ctx.fmt(
            N_("{who} is now {role} in {where}."), who=who, role=Bold(text=ctx._(role)), where=where
        )
    )


async def roles_list(ctx: Context, group: str | None) -> None:
    """``/roles [group]``: who holds which role (community-wide, or in one group)."""
    target = await groups_svc.get_group(ctx.session, ctx.community.id, group) if group else None
    stmt = (
        select(RoleGrant.role, RoleGrant.group_id, Person.display_name, Group.slug)
        .join(Person, Person.id == RoleGrant.person_id)
        .outerjoin(Group, Group.id == RoleGrant.group_id)
        .where(Person.community_id == ctx.community.id)
        .order_by(RoleGrant.group_id.is_not(None), Group.slug, RoleGrant.role, Person.display_name)
    )
    if target is not None:
        stmt = stmt.where(RoleGrant.group_id == target.id)
    rows = (await ctx.session.execute(stmt)).all()
    where = target.slug if target else ctx.community.name
    if not rows:
        ctx.reply(*ctx.fmt(N_("Nobody has a role in {where} yet."), where=Bold(text=where)))
        return
    parts: list[Part | str | list[Part]] = [
        ctx.fmt(N_("Roles in {where}:"), where=Bold(text=where))
    ]
    for role_name, group_id, name, slug in rows:
        scope = slug if group_id is not None else ctx._("the whole community")
        parts += ["\n• ", Bold(text=name or "?"), f": {ctx._(role_name)} ({scope})"]
    if target is None:
        for entry in ctx.bridge.config.community.admins:
            parts += ["\n• ", Bold(text=entry), ": " + ctx._("admin (bot.toml)")]
    ctx.reply(*parts, private=True)


async def revoke(ctx: Context, person: str, role: str, group: str | None) -> None:
    """``/role revoke <who> <role> [group]``: takes one grant back (audit-logged)."""
    account = await ctx.resolve_account(person)
    target = await groups_svc.get_group(ctx.session, ctx.community.id, group) if group else None
    if role == "admin" and account.key in ctx.bridge.config.community.admins:
        raise UserError(N_("{who} is an admin in bot.toml; remove them there."), who=account.key)
    if role == "admin" and account.person_id == ctx.person_id:
        raise UserError(N_("You cannot take your own admin role; ask another admin."))
    result = await ctx.session.execute(
        delete(RoleGrant).where(
            RoleGrant.person_id == account.person_id,
            RoleGrant.role == role,
            RoleGrant.group_id == target.id if target else RoleGrant.group_id.is_(None),
        )
    )
    where = target.slug if target else ctx._("the whole community")
    who = identity.mention(account)
    if affected(result) == 0:
        raise UserError(
            N_("{who} is not {role} in {where}."), who=f"@{who.text}", role=ctx._(role), where=where
        )
    await ctx.audit("role.revoke", account.key, role=role, group=target.slug if target else None)
    ctx.reply(
        *ctx.fmt(
            N_("{who} is no longer {role} in {where}."),
            who=who,
            role=Bold(text=ctx._(role)),
            where=where,
        )
    )
