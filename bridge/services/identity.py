"""Persons and their platform accounts; joining accounts of one person with ``/connect``."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.db import affected, insert_ignore
from bridge.errors import NotFound, UserError
from bridge.i18n import N_
from bridge.messages import AccountRef, Bold, Code, Mention
from bridge.models import Account, ConnectCode, Person, RoleGrant
from bridge.plugins import can_always_dm
from bridge.registry import registry

if TYPE_CHECKING:
    from sqlalchemy import Select

    from bridge.context import Context

__all__ = [
    "accounts_by_person",
    "accounts_of",
    "create_connect_code",
    "display_names",
    "ensure_account",
    "find_account",
    "last_account",
    "mention",
    "mention_of",
    "person_mention",
    "redeem_connect_code",
    "resolve_account",
    "seen",
    "shown_name",
]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_TTL = timedelta(minutes=15)


async def ensure_account(
    session: AsyncSession,
    community_id: int,
    ref: AccountRef,
    now: datetime,
    can_dm: bool = False,
) -> Account:
    """The account for a platform identity, created with its own person on first sight."""
    account = await find_account(session, ref.platform, ref.user_id)
    if account is None:
        person = Person(
            community_id=community_id,
            display_name=ref.display_name or ref.user_id,
            locale=None,
            created_at=now,
        )
        session.add(person)
        await session.flush()
        result = await session.execute(
            insert_ignore(
                session,
                Account,
                {
                    "person_id": person.id,
                    "platform": ref.platform,
                    "user_id": ref.user_id,
                    "display_name": ref.display_name or ref.user_id,
                    "locale": ref.locale,
                    "dm_open": can_dm or can_always_dm(ref.platform),
                    "created_at": now,
                    "last_seen_at": now,
                },
                ["platform", "user_id"],
            )
        )
        if affected(result) == 0:  # another process created it meanwhile
            await session.delete(person)
        account = await find_account(session, ref.platform, ref.user_id)
        assert account is not None
        return account
    await seen(session, account, ref, now, can_dm)
    return account


async def seen(
    session: AsyncSession, account: Account, ref: AccountRef, now: datetime, can_dm: bool = False
) -> None:
    """The person acted under ``account`` now: what the platform says of them (name,
    language, a private chat that works) is taken over."""
    changes: dict[str, object] = {"last_seen_at": now}
    if ref.display_name and ref.display_name != account.display_name:
        changes["display_name"] = ref.display_name
    if ref.locale and ref.locale != account.locale:
        changes["locale"] = ref.locale
    if can_dm and not account.dm_open:
        changes["dm_open"] = True
    if "display_name" in changes:
        # a person first seen in a mention got the bare user id as their name: the name
        # they act under replaces it (a name chosen otherwise stays)
        owner = await session.get(Person, account.person_id)
        if owner is not None and owner.display_name in (account.user_id, account.display_name):
            owner.display_name = str(changes["display_name"])
    for key, value in changes.items():
        setattr(account, key, value)


async def accounts_of(session: AsyncSession, person_id: int) -> list[Account]:
    """Every account joined to the person."""
    return list(
        (await session.execute(select(Account).where(Account.person_id == person_id)))
        .scalars()
        .all()
    )


async def display_names(
    session: AsyncSession, person_ids: Sequence[int] | Select[Any]
) -> dict[int, str]:
    """Persons' names, by id (``person_ids`` a list, or a query of them)."""
    rows = await session.execute(
        select(Person.id, Person.display_name).where(Person.id.in_(person_ids))
    )
    return {int(p): name for p, name in rows.all()}


async def accounts_by_person(
    session: AsyncSession, person_ids: Sequence[int] | Select[Any]
) -> dict[int, list[Account]]:
    """Persons' accounts, the one used last first (one query for them all)."""
    out: dict[int, list[Account]] = {}
    for account in (
        await session.execute(
            select(Account)
            .where(Account.person_id.in_(person_ids))
            .order_by(Account.last_seen_at.desc(), Account.id.desc())
        )
    ).scalars():
        out.setdefault(account.person_id, []).append(account)
    return out


def shown_name(accounts: Sequence[Account], person_name: str | None) -> str:
    """A person's name as lists show it: the name on the account they used last (their
    platform id where it has none), else the person's."""
    if accounts:
        return accounts[0].display_name or accounts[0].user_id
    return person_name or "?"


async def find_account(session: AsyncSession, platform: str, user_id: str) -> Account | None:
    return (
        await session.execute(
            select(Account).where(Account.platform == platform, Account.user_id == user_id)
        )
    ).scalar_one_or_none()


def mention(account: Account) -> Mention:
    return Mention(
        text=account.display_name or account.user_id, accounts={account.platform: account.user_id}
    )


async def last_account(session: AsyncSession, person_id: int) -> Account | None:
    """The account the person used most recently (their language, their name there)."""
    return (
        await session.execute(
            select(Account)
            .where(Account.person_id == person_id)
            .order_by(Account.last_seen_at.desc(), Account.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def person_mention(session: AsyncSession, person_id: int) -> Mention:
    """A mention of a person that every platform can render natively where they have an account."""
    person = await session.get(Person, person_id)
    accounts = (await accounts_by_person(session, [person_id])).get(person_id, [])
    return mention_of(accounts, person.display_name if person else None)


def mention_of(accounts: Sequence[Account], person_name: str | None) -> Mention:
    """A mention of a person from their accounts, the one used last first: named as there
    (else as the person), and on each platform as its most recently used account."""
    name = (accounts[0].display_name if accounts else "") or person_name or "?"
    return Mention(text=name, accounts={a.platform: a.user_id for a in reversed(accounts)})


async def create_connect_code(session: AsyncSession, account: Account, now: datetime) -> str:
    """A fresh one-time code for the account's person (earlier unused codes are dropped)."""
    await session.execute(
        delete(ConnectCode).where(
            ConnectCode.account_id == account.id, ConnectCode.used_at.is_(None)
        )
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    session.add(
        ConnectCode(
            code=code,
            person_id=account.person_id,
            account_id=account.id,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    await session.flush()
    return code


async def redeem_connect_code(
    session: AsyncSession, account: Account, code: str, now: datetime
) -> tuple[int, Account]:
    """Join ``account``'s person into the person who made ``code``.

    Returns the remaining person id and the account that made the code. Every feature's
    records of the joined person move over (``merge_hook``); where both persons had a
    record that must stay unique (a vote on the same idea), the code owner's stays.
    """
    row = (
        await session.execute(
            select(ConnectCode).where(ConnectCode.code == code.strip().upper()).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise UserError(N_("This code is unknown or has expired. Ask for a new one with /connect."))
    origin = await session.get(Account, row.account_id)
    assert origin is not None
    if origin.platform == account.platform and origin.user_id == account.user_id:
        raise UserError(
            N_("Use this code from your account on another platform, not from this one.")
        )
    claimed = await session.execute(
        update(ConnectCode)
        .where(ConnectCode.code == row.code, ConnectCode.used_at.is_(None))
        .values(used_at=now)
    )
    if affected(claimed) != 1:
        raise UserError(N_("This code is unknown or has expired. Ask for a new one with /connect."))
    into, source = row.person_id, account.person_id
    if into != source:
        await merge_persons(session, source, into)
    return into, origin


async def merge_persons(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Move everything of person ``from_id`` to ``into_id``."""
    for hook in registry.merge_hooks:
        await hook(session, from_id, into_id)
    grants = (
        (await session.execute(select(RoleGrant).where(RoleGrant.person_id == from_id)))
        .scalars()
        .all()
    )
    for grant in grants:
        exists = (
            await session.execute(
                select(RoleGrant.id).where(
                    RoleGrant.person_id == into_id,
                    RoleGrant.role == grant.role,
                    RoleGrant.group_id.is_(None)
                    if grant.group_id is None
                    else RoleGrant.group_id == grant.group_id,
                )
            )
        ).first()
        if exists:
            await session.delete(grant)
        else:
            grant.person_id = into_id
    await session.flush()
    await session.execute(
        update(Account).where(Account.person_id == from_id).values(person_id=into_id)
    )
    await session.execute(
        update(ConnectCode).where(ConnectCode.person_id == from_id).values(person_id=into_id)
    )
    await session.execute(update(Person).where(Person.id == from_id).values(merged_into_id=into_id))


async def resolve_account(
    session: AsyncSession,
    community_id: int,
    platform: str,
    text: str,
    now: datetime,
    parse_mention: Callable[[str], str | None] | None = None,
) -> Account:
    """Find the account a command names: ``slack:U0123``, a platform mention, or ``@name``.

    ``parse_mention`` turns a mention as a platform writes it into ``platform:user_id``
    (the adapters declare how; ``Bridge.parse_mention`` asks them all).
    ``platform:user_id`` creates the account if it was never seen (roles can be granted
    before the person writes); ``@name`` must match a known account of this platform.
    """
    text = text.strip()
    mentioned = parse_mention(text) if parse_mention is not None else None
    if mentioned:
        text = mentioned
    if not text.startswith("@") and ":" in text:
        plat, _, user_id = text.partition(":")
        if plat and user_id and re.fullmatch(r"[a-z]+", plat):
            return await ensure_account(
                session, community_id, AccountRef(platform=plat, user_id=user_id), now
            )
    name = text.lstrip("@").lower()
    candidates = (
        (await session.execute(select(Account).where(Account.platform == platform))).scalars().all()
    )
    for account in candidates:
        if account.user_id.lower() == name:
            return account
    named = [a for a in candidates if (a.display_name or "").lower() == name]
    if len(named) == 1:
        return named[0]
    raise NotFound(
        N_(
            "I don't know {who}. Name them as platform:user_id (for example slack:U0123) or "
            "@name of someone who has used the bot here."
        ),
        who=text,
    )


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


async def connect(ctx: Context, code: str | None) -> None:
    if not code:
        new_code = await create_connect_code(ctx.session, ctx.account, ctx.now)
        ctx.reply(
            *ctx.fmt(
                N_(
                    "Your code is {code}. Within 15 minutes, send {command} from your account on "
                    "the other platform. Keep it to yourself: whoever uses it joins your accounts."
                ),
                code=Code(text=new_code),
                command=Code(text=f"/connect {new_code}"),
            ),
            private=True,
        )
        return
    _person, origin = await redeem_connect_code(ctx.session, ctx.account, code, ctx.now)
    await ctx.audit("account.connect", ctx.account.key, joined_to=origin.key)
    ctx.reply(
        *ctx.fmt(
            N_(
                "Done: this account ({here}) and {there} are now one person. Your votes and "
                "answers count once, wherever you use them."
            ),
            here=ctx.account.key,
            there=origin.key,
        )
    )


async def connect_undo(ctx: Context) -> None:
    """``/connect undo``: this account becomes a person of its own again. What the person
    did (votes, ideas, answers) stays with the other joined accounts."""
    others = [a for a in await accounts_of(ctx.session, ctx.person_id) if a.id != ctx.account.id]
    if not others:
        raise UserError(N_("This account is not joined to another one."))
    person = Person(
        community_id=ctx.community.id,
        display_name=ctx.account.display_name or ctx.account.user_id,
        locale=None,
        created_at=ctx.now,
    )
    ctx.session.add(person)
    await ctx.session.flush()
    ctx.account.person_id = person.id
    await ctx.session.flush()
    await ctx.audit("account.separate", ctx.account.key, from_accounts=[a.key for a in others])
    ctx.reply(
        *ctx.fmt(
            N_(
                "This account ({here}) stands on its own again; {there} keep what you did "
                "so far. Join them again with /connect."
            ),
            here=ctx.account.key,
            there=", ".join(a.key for a in others),
        )
    )


NOTIFY = ("on", "off", "digest")


async def notify(ctx: Context, setting: str | None) -> None:
    """``/notify on|off|digest``: private notifications of status changes, answers and
    reminders, for this person on every joined account."""
    person = await ctx.session.get(Person, ctx.person_id)
    assert person is not None
    labels = {
        "on": N_("as they happen"),
        "off": N_("off"),
        "digest": N_("once a day, in one summary"),
    }
    if setting is None:
        ctx.reply(
            *ctx.fmt(
                N_("Your notifications: {setting}. Change with {command}."),
                setting=Bold(text=ctx._(labels[person.notify])),
                command=Code(text="/notify on|off|digest"),
            )
        )
        return
    person.notify = setting
    await ctx.session.flush()
    ctx.reply(
        *ctx.fmt(
            N_("Your notifications are now {setting}."),
            setting=Bold(text=ctx._(labels[setting])),
        )
    )


async def relay_mentions(ctx: Context, setting: str | None) -> None:
    """``/mentions on|off``: whether a mention of this person in a relayed message becomes
    a real mention (a ping) on their other platforms; off, the copy shows their name."""
    person = await ctx.session.get(Person, ctx.person_id)
    assert person is not None
    if setting is None:
        ctx.reply(
            *ctx.fmt(
                N_("Relayed mentions of you: {setting}. Change with {command}."),
                setting=Bold(text=ctx._("on") if person.relay_mentions else ctx._("off")),
                command=Code(text="/mentions on|off"),
            )
        )
        return
    person.relay_mentions = setting == "on"
    await ctx.session.flush()
    if person.relay_mentions:
        ctx.reply(
            ctx._(
                "A mention of you relayed from another platform now pings you where you "
                "have an account (join them with /connect)."
            )
        )
    else:
        ctx.reply(ctx._("A mention of you relayed from another platform now shows your name."))
