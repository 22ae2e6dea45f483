"""The partner network: profiles, the trades they choose from, references confirmed by
their customers, recommendations approved by hosts, and finding partners."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import search, similarity
from bridge.db import affected, insert_ignore, like_pattern
from bridge.errors import Denied, NotFound, UsageError, UserError, check_length
from bridge.i18n import N_
from bridge.messages import Bold, Button, Code, FormRequest, Message, Part, Text, fmt
from bridge.models import Account, RoleGrant
from bridge.models.partners import Profile, Recommendation, Reference, Trade
from bridge.plugins import has_forms
from bridge.sanitize import csv_cell, is_number
from bridge.services import counters, identity
from bridge.services.groups import slugify

if TYPE_CHECKING:
    from bridge.context import ActionContext, Context
    from bridge.core import Bridge

__all__ = [
    "FIELDS",
    "add_reference",
    "description_form",
    "export_profiles",
    "find_partners",
    "profile_edit",
    "profile_set",
    "profile_show",
    "profile_step",
    "recommend",
    "remove_reference",
    "trades",
]

#: what ``/profile set`` takes, with each value's limit
FIELDS = {
    "company": 120,
    "trade": 64,
    "region": 64,
    "description": 2000,
    "website": 300,
    "contact": 300,
    "private": 3,
}
FIELD_NAMES = {
    "company": N_("Company"),
    "trade": N_("Trade"),
    "region": N_("Region"),
    "description": N_("Description"),
    "website": N_("Website"),
    "contact": N_("Contact"),
    "private": N_("Private"),
}
PAGE_SIZE = 10
RECOMMENDATION_MAX = 1000
EXPORT_TTL = timedelta(hours=24)
_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


# ------------------------------------------------------------------ trades


async def trade_list(session: AsyncSession, community_id: int) -> list[Trade]:
    return list(
        (
            await session.execute(
                select(Trade).where(Trade.community_id == community_id).order_by(Trade.slug)
            )
        )
        .scalars()
        .all()
    )


async def find_trade(session: AsyncSession, community_id: int, name: str) -> Trade | None:
    return (
        await session.execute(
            select(Trade).where(Trade.community_id == community_id, Trade.slug == slugify(name))
        )
    ).scalar_one_or_none()


async def trades(ctx: Context, action: str | None, name: str | None) -> None:
    """``/trades`` lists them; ``/trades add|remove <trade>`` (admins) keeps the list."""
    if action is None:
        found = await trade_list(ctx.session, ctx.community.id)
        if not found:
            ctx.reply(ctx._("No trades yet. An admin adds them with /trades add <trade>."))
            return
        ctx.reply(*ctx.fmt(N_("Trades: {trades}"), trades=", ".join(t.name for t in found)))
        return
    if not ctx.is_admin:
        raise Denied(N_("Only admins may change the list of trades."))
    if not name:
        raise UsageError(N_("<{name}> is missing."), name="trade")
    name = check_length(" ".join(name.split()), FIELDS["trade"], N_("The trade"))
    slug = slugify(name)
    if not slug:
        raise UsageError(N_("A trade needs letters or digits."))
    if action == "add":
        result = await ctx.session.execute(
            insert_ignore(
                ctx.session,
                Trade,
                {
                    "community_id": ctx.community.id,
                    "slug": slug,
                    "name": name,
                    "created_at": ctx.now,
                },
                ["community_id", "slug"],
            )
        )
        if not affected(result):
            raise UserError(N_("The trade {trade} is on the list already."), trade=name)
        await ctx.audit("trade.add", slug)
        ctx.reply(*ctx.fmt(N_("Added the trade {trade}."), trade=Bold(text=name)))
        return
    trade = await find_trade(ctx.session, ctx.community.id, name)
    if trade is None:
        raise NotFound(N_("There is no trade {trade}."), trade=name)
    used = (
        await ctx.session.execute(
            select(func.count()).select_from(Profile).where(Profile.trade_id == trade.id)
        )
    ).scalar_one()
    if used:
        raise UserError(
            N_("{n} profiles name the trade {trade}; it stays until they choose another."),
            n=used,
            trade=trade.name,
        )
    await ctx.session.delete(trade)
    await ctx.audit("trade.remove", slug)
    ctx.reply(*ctx.fmt(N_("Removed the trade {trade}."), trade=Bold(text=trade.name)))


# ------------------------------------------------------------------ profiles


async def _profile(
    session: AsyncSession, community_id: int, person_id: int, now: datetime
) -> Profile:
    profile = await session.get(Profile, person_id)
    if profile is None:
        profile = Profile(person_id=person_id, community_id=community_id, updated_at=now)
        session.add(profile)
        await session.flush()
    return profile


async def _groups_of(session: AsyncSession, person_id: int) -> set[int]:
    rows = await session.execute(
        select(RoleGrant.group_id).where(
            RoleGrant.person_id == person_id, RoleGrant.group_id.is_not(None)
        )
    )
    return {int(g) for g in rows.scalars() if g is not None}


async def may_see(ctx: Context, profile: Profile | None) -> bool:
    """A profile is community-wide, unless its owner marked it private: then only members
    of their groups see it (and admins, and they themselves)."""
    if profile is None or not profile.private or profile.person_id == ctx.person_id:
        return True
    if ctx.is_admin:
        return True
    theirs = await _groups_of(ctx.session, profile.person_id)
    return bool(theirs & await _groups_of(ctx.session, ctx.person_id))


async def profile_show(ctx: Context, who: str | None) -> None:
    """``/profile`` (your own) or ``/profile @someone``: the card, with references and
    approved recommendations."""
    from bridge.cards.partners import profile_card

    if who is None:
        person_id = ctx.person_id
    else:
        account = await ctx.resolve_account(who)
        person_id = account.person_id
    profile = await ctx.session.get(Profile, person_id)
    if not await may_see(ctx, profile):
        raise NotFound(N_("There is no profile of {who} that you can see."), who=who)
    if profile is None and person_id == ctx.person_id:
        ctx.reply(
            *ctx.fmt(
                N_("You have no profile yet. Start with {command}."),
                command=Code(text="/profile set company <name>"),
            )
        )
        return
    if profile is None:
        raise NotFound(N_("{who} has no profile yet."), who=who)
    parts = await profile_card(ctx.session, ctx.t, profile)
    ctx.reply(parts, private=profile.private)


async def _apply(ctx: Context, profile: Profile, field: str, value: str) -> bool:
    """Check and set one field (``-`` or empty clears it); False when it was unchanged.
    A bad value raises with the reason, and the whole command changes nothing."""
    value = " ".join(value.split()) if field != "description" else value.strip()
    clear = value in ("", "-")
    if field == "private":
        if value.lower() not in ("on", "off", "yes", "no", "ja", "nein"):
            raise UsageError(N_("private takes on or off."))
        new_private = value.lower() in ("on", "yes", "ja")
        changed = new_private != profile.private
        profile.private = new_private
        return changed
    if field == "trade":
        trade_id = None
        if not clear:
            trade = await find_trade(ctx.session, ctx.community.id, value)
            if trade is None:
                known = await trade_list(ctx.session, ctx.community.id)
                raise UsageError(
                    N_("{trade} is not on the list of trades. Choose one of: {trades}."),
                    trade=value[:40],
                    trades=", ".join(t.name for t in known) or "-",
                )
            trade_id = trade.id
        changed = trade_id != profile.trade_id
        profile.trade_id = trade_id
        return changed
    if not clear:
        check_length(value, FIELDS[field], ctx._(FIELD_NAMES[field]))
    if field == "website" and not clear and not _URL.match(value):
        raise UsageError(N_("A website starts with https:// or http://."))
    new_value = "" if clear else value
    changed = new_value != getattr(profile, field)
    setattr(profile, field, new_value)
    return changed


async def _reindex(ctx: Context, profile: Profile) -> None:
    """The profile's words in the search index (company, trade, region, description)."""
    await ctx.session.flush()
    await search.reindex(
        ctx.session,
        "profile",
        profile.person_id,
        profile.company,
        await _trade_name(ctx, profile) or "",
        profile.region,
        profile.description,
    )


async def profile_set(ctx: Context, field: str, value: str) -> None:
    """``/profile set <field> <value>``; an empty value (``-``) clears a field."""
    profile = await _profile(ctx.session, ctx.community.id, ctx.person_id, ctx.now)
    await _apply(ctx, profile, field, value)
    profile.updated_at = ctx.now
    await _reindex(ctx, profile)
    label = ctx._(FIELD_NAMES[field])
    value = " ".join(value.split())
    if field == "private":
        shown = ctx._("on") if profile.private else ctx._("off")
        ctx.reply(*ctx.fmt(N_("{field} is now {value}."), field=Bold(text=label), value=shown))
    elif value in ("", "-"):
        ctx.reply(*ctx.fmt(N_("{field} is cleared."), field=Bold(text=label)))
    elif field in ("description", "contact"):
        ctx.reply(*ctx.fmt(N_("{field} is set."), field=Bold(text=label)))
    else:
        ctx.reply(*ctx.fmt(N_("{field} is now {value}."), field=Bold(text=label), value=value))


#: what the form shows (a Discord modal holds five), then the description on its own
FORM_FIELDS = ("company", "trade", "region", "website", "contact")
#: what the private chat asks, one field after another
STEP_FIELDS = ("company", "trade", "region", "description", "website", "contact")
#: a private-chat edit left alone this long is over
STEP_TTL = timedelta(hours=1)
KEEP = frozenset({".", "ok", "keep", "behalten"})
STOP_WORDS = frozenset({"stop", "stopp", "cancel", "abbrechen", "ende"})


def _current(profile: Profile, field: str, trade_name: str | None) -> str:
    if field == "trade":
        return trade_name or ""
    return str(getattr(profile, field) or "")


async def _trade_name(ctx: Context, profile: Profile) -> str | None:
    if profile.trade_id is None:
        return None
    trade = await ctx.session.get(Trade, profile.trade_id)
    return trade.name if trade is not None else None


async def profile_edit(ctx: Context, **values: str | None) -> None:
    """``/profile edit [company "<v>"] [trade <v>] …``: several fields at once, checked
    together (one bad value changes nothing). Without values: a form where the platform
    has one (Slack, Discord), else the private chat asks field by field."""
    given = {f: v for f, v in values.items() if v is not None}
    profile = await _profile(ctx.session, ctx.community.id, ctx.person_id, ctx.now)
    if not given:
        await _start_editing(ctx, profile)
        return
    changed = [f for f in STEP_FIELDS if f in given and await _apply(ctx, profile, f, given[f])]
    profile.updated_at = ctx.now
    await _reindex(ctx, profile)
    await _saved(ctx, profile, changed, offer_description="description" not in given)


async def _saved(
    ctx: Context, profile: Profile, changed: list[str], offer_description: bool = False
) -> None:
    from bridge.cards.partners import profile_card

    names = ", ".join(ctx._(FIELD_NAMES[f]) for f in changed)
    if changed:
        head = ctx.fmt(N_("Your profile is saved ({fields})."), fields=names)
    else:
        head = [Text(text=ctx._("Nothing changed in your profile."))]
    buttons: list[Button] = []
    if offer_description and has_forms(ctx.account.platform):
        buttons.append(Button(label=ctx._("Edit the description"), action="pf.text"))
    card = await profile_card(ctx.session, ctx.t, profile)
    ctx.reply([*head, Text(text="\n\n"), *card], buttons=buttons, private=True)


async def _start_editing(ctx: Context, profile: Profile) -> None:
    trade_name = await _trade_name(ctx, profile)
    if has_forms(ctx.account.platform):
        initial = {f: _current(profile, f, trade_name) for f in FORM_FIELDS}
        ctx.reply(
            *ctx.fmt(
                N_("Edit your profile in the form, or type {example}."),
                example=Code(text='/profile edit company "<name>" region <postal code>'),
            ),
            form=_profile_form(ctx, FORM_FIELDS, initial),
        )
        return
    profile.edit_step = 0
    profile.edit_at = ctx.now
    await ctx.session.flush()
    intro = N_(
        "I'll ask for each field of your profile in turn. Answer with the new value, "
        "{keep} to keep it, {clear} to clear it, {stop} to end."
    )
    ctx.reply(
        [
            *ctx.fmt(intro, keep=Code(text="."), clear=Code(text="-"), stop=Code(text="stop")),
            Text(text="\n\n"),
            *await _step_question(ctx, profile, trade_name),
        ],
        private=True,
    )


async def description_form(ctx: ActionContext) -> None:
    """The button under a saved profile: the description in a form of its own."""
    profile = await _profile(ctx.session, ctx.community.id, ctx.person_id, ctx.now)
    ctx.reply(
        *ctx.fmt(
            N_("To change the description, type {command}."),
            command=Code(text="/profile set description <text>"),
        ),
        form=_profile_form(ctx, ("description",), {"description": profile.description}),
    )


def _profile_form(ctx: Context, fields: tuple[str, ...], initial: dict[str, str]) -> FormRequest:
    """The ``/profile edit`` form with these fields, starting with what is stored."""
    return FormRequest(
        command="profile",
        subcommand="edit",
        title=ctx._("Your profile"),
        fields=fields,
        initial={k: v for k, v in initial.items() if v},
    )


async def _step_question(ctx: Context, profile: Profile, trade_name: str | None) -> list[Part]:
    assert profile.edit_step is not None
    field = STEP_FIELDS[profile.edit_step]
    now = _current(profile, field, trade_name)
    parts: list[Part] = [
        Text(text=f"{profile.edit_step + 1}/{len(STEP_FIELDS)} "),
        Bold(text=ctx._(FIELD_NAMES[field])),
        Text(text="? "),
    ]
    if field == "trade":
        known = await trade_list(ctx.session, ctx.community.id)
        parts += ctx.fmt(
            N_("Choose one of: {trades}."), trades=", ".join(t.name for t in known) or "-"
        )
        parts.append(Text(text=" "))
    if now:
        shown = now if len(now) <= 200 else now[:199] + "…"
        parts += ctx.fmt(N_("Now: {value}"), value=shown)
    else:
        parts.append(Text(text=ctx._("Now empty.")))
    return parts


async def profile_step(ctx: Context, text: str) -> bool:
    """A plain message in the private chat answers the profile field asked last."""
    if not ctx.is_dm:
        return False
    profile = await ctx.session.get(Profile, ctx.person_id)
    if profile is None or profile.edit_step is None:
        return False
    if profile.edit_at is None or ctx.now - profile.edit_at > STEP_TTL:
        profile.edit_step = profile.edit_at = None
        return False
    answer = text.strip()
    if answer.casefold() in STOP_WORDS:
        profile.edit_step = profile.edit_at = None
        await _saved(ctx, profile, [])
        return True
    field = STEP_FIELDS[profile.edit_step]
    if answer.casefold() not in KEEP and await _apply(ctx, profile, field, answer):
        profile.updated_at = ctx.now
        await _reindex(ctx, profile)
    profile.edit_step += 1
    profile.edit_at = ctx.now
    if profile.edit_step >= len(STEP_FIELDS):
        profile.edit_step = profile.edit_at = None
        await ctx.session.flush()
        from bridge.cards.partners import profile_card

        card = await profile_card(ctx.session, ctx.t, profile)
        ctx.reply([Text(text=ctx._("Your profile is saved.") + "\n\n"), *card], private=True)
        return True
    await ctx.session.flush()
    ctx.reply(await _step_question(ctx, profile, await _trade_name(ctx, profile)), private=True)
    return True


# ------------------------------------------------------------------ references


_CUSTOMER = re.compile(r"(?:^|\s)(?:customer|kunde)\s+(\S+)\s*$", re.IGNORECASE)


async def add_reference(ctx: Context, title: str, rest: str | None) -> None:
    """``/reference add "<title>" [| description] [link] [customer @someone]``: on the card;
    a named customer is asked to confirm it first."""
    title = check_length(" ".join(title.split()), 200, N_("The title"))
    description, link = "", ""
    text = (rest or "").strip()
    customer = None
    named = _CUSTOMER.search(text)
    if named:
        customer = named.group(1)
        text = text[: named.start()].strip()
    if text.startswith("|"):
        text = text[1:].strip()
    words = text.split()
    if words and _URL.match(words[-1]):
        link = words[-1]
        text = text[: text.rfind(link)].strip()
    elif words and words[-1].lower().startswith(("www.", "http")):
        raise UsageError(N_("A link starts with https:// or http://."))
    description = check_length(text, 2000, N_("The description"))
    customer_id = None
    if customer:
        account = await ctx.resolve_account(customer)
        if account.person_id == ctx.person_id:
            raise UserError(N_("You cannot be the customer of your own reference."))
        customer_id = account.person_id
    number = await counters.next_number(ctx.session, ctx.community.id, "reference")
    ref = Reference(
        community_id=ctx.community.id,
        number=number,
        person_id=ctx.person_id,
        title=title,
        description=description,
        link=link,
        customer_id=customer_id,
        created_at=ctx.now,
    )
    ctx.session.add(ref)
    await _profile(ctx.session, ctx.community.id, ctx.person_id, ctx.now)
    await ctx.session.flush()
    if customer_id is None:
        ctx.reply(*ctx.fmt(N_("{ref} is on your profile."), ref=Code(text=ref.ref)))
        return
    await _ask_customer(ctx, ref, customer_id)
    ctx.reply(
        *ctx.fmt(
            N_("{ref} is on your profile; it names the customer once they confirm it."),
            ref=Code(text=ref.ref),
        )
    )


async def _ask_customer(ctx: Context, ref: Reference, customer_id: int) -> None:
    from bridge.i18n import translator

    locale = await _locale(ctx.session, ctx.bridge, customer_id)
    t = translator(locale)
    partner = await identity.person_mention(ctx.session, ref.person_id)
    message = Message(
        parts=tuple(
            fmt(
                t.gettext(
                    N_(
                        "{partner} names you as the customer of the project {title} ({ref}). "
                        "Confirm?"
                    )
                ),
                partner=partner,
                title=Bold(text=ref.title),
                ref=Code(text=ref.ref),
            )
        ),
        buttons=(
            Button(
                label=t.gettext(N_("Confirm")), action="r.ok", args=(str(ref.id),), style="primary"
            ),
            Button(label=t.gettext(N_("Decline")), action="r.no", args=(str(ref.id),)),
        ),
    )
    await ctx.bridge.outbox.notify(ctx.session, customer_id, message)


async def _locale(session: AsyncSession, bridge: Bridge, person_id: int) -> str:
    account = await identity.last_account(session, person_id)
    return bridge.locale_for(account.locale if account else None)


async def confirm_reference(ctx: ActionContext, reference_id: str, yes: bool) -> None:
    """The customer's button: only the named customer may press it, once."""
    ref = await ctx.session.get(Reference, int(reference_id)) if is_number(reference_id) else None
    if ref is None or ref.customer_id is None:
        raise UserError(N_("This button is no longer valid."))
    if ref.customer_id != ctx.person_id:
        raise Denied(N_("Only the customer named in {ref} may answer this."), ref=ref.ref)
    if ref.confirmed_at is not None:
        raise UserError(N_("You confirmed {ref} already."), ref=ref.ref)
    if yes:
        ref.confirmed_at = ctx.now
        ctx.reply(*ctx.fmt(N_("Thank you: {ref} now names you as its customer."), ref=ref.ref))
    else:
        ref.customer_id = None
        ctx.reply(*ctx.fmt(N_("{ref} does not name you."), ref=ref.ref))
    await ctx.session.flush()


async def remove_reference(ctx: Context, reference: str) -> None:
    number = counters.parse_ref("R", reference)
    ref = (
        await ctx.session.execute(
            select(Reference).where(
                Reference.community_id == ctx.community.id, Reference.number == number
            )
        )
    ).scalar_one_or_none()
    if ref is None or (ref.person_id != ctx.person_id and not ctx.is_admin):
        raise NotFound(N_("You have no reference {ref}."), ref=f"R-{number}")
    await ctx.session.delete(ref)
    await ctx.session.flush()
    ctx.reply(*ctx.fmt(N_("{ref} is removed from the profile."), ref=f"R-{number}"))


# ------------------------------------------------------------------ recommendations


async def recommend(ctx: Context, who: str, text: str) -> None:
    """``/recommend @partner <text>``: once per partner; shown after a host approves it."""
    account = await ctx.resolve_account(who)
    if account.person_id == ctx.person_id:
        raise UserError(N_("You cannot recommend yourself."))
    profile = await ctx.session.get(Profile, account.person_id)
    if profile is None or not await may_see(ctx, profile):
        raise NotFound(N_("There is no profile of {who} that you can see."), who=who)
    text = check_length(text.strip(), RECOMMENDATION_MAX, N_("The recommendation"))
    number = await counters.next_number(ctx.session, ctx.community.id, "recommendation")
    result = await ctx.session.execute(
        insert_ignore(
            ctx.session,
            Recommendation,
            {
                "community_id": ctx.community.id,
                "number": number,
                "partner_id": account.person_id,
                "recommender_id": ctx.person_id,
                "text": text,
                "status": "pending",
                "created_at": ctx.now,
            },
            ["partner_id", "recommender_id"],
        )
    )
    if not affected(result):
        raise UserError(
            N_("You recommended {who} already; withdraw it first with {command}."),
            who=who,
            command=f"/recommend withdraw {who}",
        )
    ctx.reply(
        *ctx.fmt(
            N_(
                "Thank you! Your recommendation #{n} goes to the hosts; once approved it shows "
                "on the profile."
            ),
            n=number,
        )
    )


async def recommend_withdraw(ctx: Context, who: str) -> None:
    account = await ctx.resolve_account(who)
    result = await ctx.session.execute(
        delete(Recommendation).where(
            Recommendation.partner_id == account.person_id,
            Recommendation.recommender_id == ctx.person_id,
        )
    )
    if not affected(result):
        raise NotFound(N_("You have not recommended {who}."), who=who)
    ctx.reply(*ctx.fmt(N_("Your recommendation of {who} is withdrawn."), who=who))


async def recommend_queue(ctx: Context) -> None:
    """``/recommend queue`` (hosts): the recommendations waiting, oldest first."""
    rows = (
        (
            await ctx.session.execute(
                select(Recommendation)
                .where(
                    Recommendation.community_id == ctx.community.id,
                    Recommendation.status == "pending",
                )
                .order_by(Recommendation.id)
                .limit(25)
            )
        )
        .scalars()
        .all()
    )
    if not rows:
        ctx.reply(ctx._("No recommendation is waiting."))
        return
    ids = sorted({r.partner_id for r in rows} | {r.recommender_id for r in rows})
    names = await identity.display_names(ctx.session, ids)
    parts: list[Part] = [
        Text(
            text=ctx.ngettext(
                "{n} recommendation waits:", "{n} recommendations wait:", len(rows)
            ).format(n=len(rows))
        )
    ]
    for r in rows:
        parts += [
            Text(text="\n"),
            Bold(text=f"#{r.number}"),
            *ctx.fmt(
                N_(" {who} recommends {partner}: {text}"),
                who=names.get(r.recommender_id, "?"),
                partner=names.get(r.partner_id, "?"),
                text=r.text,
            ),
        ]
    parts += [
        Text(text="\n"),
        *ctx.fmt(
            N_("Decide with {approve} or {reject}."),
            approve=Code(text="/recommend approve <n>"),
            reject=Code(text="/recommend reject <n> [reason]"),
        ),
    ]
    ctx.reply(*parts, private=True)


async def recommend_decide(ctx: Context, number: int, approve: bool, reason: str | None) -> None:
    rec = (
        await ctx.session.execute(
            select(Recommendation).where(
                Recommendation.community_id == ctx.community.id,
                Recommendation.number == number,
            )
        )
    ).scalar_one_or_none()
    if rec is None:
        raise NotFound(N_("There is no recommendation #{n}."), n=number)
    if rec.status != "pending":
        raise UserError(N_("Recommendation #{n} is decided already."), n=number)
    rec.status = "approved" if approve else "rejected"
    rec.reason = check_length((reason or "").strip(), 500, N_("The reason")) or None
    rec.decided_by_id, rec.decided_at = ctx.person_id, ctx.now
    await ctx.session.flush()
    await ctx.audit(f"recommendation.{rec.status}", f"#{number}", reason=rec.reason)
    ctx.reply(
        *ctx.fmt(
            N_("Recommendation #{n} is approved; it shows on the profile.")
            if approve
            else N_("Recommendation #{n} is rejected."),
            n=number,
        )
    )


async def approved_counts(session: AsyncSession, community_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(Recommendation.partner_id, func.count())
        .where(Recommendation.community_id == community_id, Recommendation.status == "approved")
        .group_by(Recommendation.partner_id)
    )
    return {int(p): int(n) for p, n in rows.all()}


# ------------------------------------------------------------------ finding partners


def _visible_profiles(ctx: Context) -> Any:
    """The visibility rule of profiles as a condition: community-wide, unless private;
    a private one for its owner, admins, and members of one of the owner's groups."""
    if ctx.is_admin:
        return true()
    theirs = RoleGrant.__table__.alias("theirs")
    mine = select(RoleGrant.group_id).where(
        RoleGrant.person_id == ctx.person_id, RoleGrant.group_id.is_not(None)
    )
    shared = (
        select(theirs.c.id)
        .where(theirs.c.person_id == Profile.person_id, theirs.c.group_id.in_(mine))
        .exists()
    )
    return or_(Profile.private.is_(False), Profile.person_id == ctx.person_id, shared)


async def find_partners(ctx: Context, words: list[str], page: int = 1) -> None:
    """``/partners [trade] [region] [text]``: a word that names a trade filters by trade, a
    postal code prefix or a region name filters by region, other words are looked up in
    the search index (company, trade, region, description: stems, compounds meeting
    their parts) and every one must meet the profile; best recommended first, paged.
    The visibility rule is part of the query."""
    from bridge.cards.partners import partner_line

    trades_known = {t.slug: t for t in await trade_list(ctx.session, ctx.community.id)}
    trade = None
    rest: list[str] = []
    for word in words:
        if trade is None and slugify(word) in trades_known:
            trade = trades_known[slugify(word)]
        else:
            rest.append(word)
    region = None
    if rest and (is_number(rest[0]) or await _is_region(ctx.session, ctx.community.id, rest[0])):
        region = rest.pop(0)
    where = [Profile.community_id == ctx.community.id, _visible_profiles(ctx)]
    if trade is not None:
        where.append(Profile.trade_id == trade.id)
    if region is not None:
        where.append(Profile.region.ilike(like_pattern(region, prefix_only=True), escape="\\"))
    stmt = select(Profile)
    text = " ".join(rest[:8])
    asked = set(similarity.terms(text))
    if rest and not asked:
        raise UserError(N_("No partner matches that. Try fewer words."))
    if asked:  # the profiles sharing most terms, at most CANDIDATES of them
        found_terms = search.hits("profile", search.terms_of(text))
        stmt = (
            stmt.join(found_terms, found_terms.c.item_id == Profile.person_id)
            .order_by(found_terms.c.hits.desc(), Profile.person_id)
            .limit(search.CANDIDATES)
        )
    found = list((await ctx.session.execute(stmt.where(*where))).scalars().all())
    names_of_trades = {t.id: t.name for t in trades_known.values()}
    if asked:  # every word must meet the profile

        def words_of(p: Profile) -> set[str]:
            trade_name = names_of_trades.get(p.trade_id or 0, "")
            return set(similarity.terms(f"{p.company} {trade_name} {p.region} {p.description}"))

        found = [p for p in found if similarity.met(asked, words_of(p)) == asked]
    if not found:
        ctx.reply(ctx._("No partner matches that. Try fewer words."))
        return
    counts = await approved_counts(ctx.session, ctx.community.id)
    names = await identity.display_names(ctx.session, [p.person_id for p in found])
    found.sort(key=lambda p: (-counts.get(p.person_id, 0), names.get(p.person_id, "").lower()))
    pages = max(1, -(-len(found) // PAGE_SIZE))
    if page > pages:
        raise UserError(
            N_("There is no page {page}; the list has {pages}."), page=page, pages=pages
        )
    parts: list[Part] = ctx.fmt(N_("Partners, page {page} of {pages}:"), page=page, pages=pages)
    for p in found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        parts.append(Text(text="\n"))
        parts.extend(
            partner_line(
                ctx.t, p, names.get(p.person_id, "?"), names_of_trades, counts.get(p.person_id, 0)
            )
        )
    buttons = []
    if page < pages:
        query = " ".join(words)[:30]
        buttons.append(Button(label=ctx._("More"), action="p.more", args=(str(page + 1), query)))
    ctx.reply(*parts, buttons=buttons)


async def _is_region(session: AsyncSession, community_id: int, word: str) -> bool:
    return (
        await session.execute(
            select(Profile.person_id)
            .where(
                Profile.community_id == community_id,
                Profile.region.ilike(like_pattern(word, prefix_only=True), escape="\\"),
            )
            .limit(1)
        )
    ).first() is not None


# ------------------------------------------------------------------ export, /stats


async def profile_rows(session: AsyncSession, community_id: int) -> list[dict[str, Any]]:
    """Every profile that is not private, for the hosting company's CRM."""
    trades_by_id = {t.id: t.name for t in await trade_list(session, community_id)}
    counts = await approved_counts(session, community_id)
    profiles = (
        (
            await session.execute(
                select(Profile)
                .where(Profile.community_id == community_id, Profile.private.is_(False))
                .order_by(Profile.person_id)
            )
        )
        .scalars()
        .all()
    )
    names = await identity.display_names(session, [p.person_id for p in profiles])
    accounts = (
        await session.execute(
            select(Account.person_id, Account.platform, Account.user_id).where(
                Account.person_id.in_([p.person_id for p in profiles])
            )
        )
    ).all()
    keys: dict[int, list[str]] = {}
    for person_id, platform, user_id in accounts:
        keys.setdefault(int(person_id), []).append(f"{platform}:{user_id}")
    return [
        {
            "name": names.get(p.person_id, ""),
            "accounts": " ".join(sorted(keys.get(p.person_id, []))),
            "company": p.company,
            "trade": trades_by_id.get(p.trade_id or 0, ""),
            "region": p.region,
            "website": p.website,
            "contact": p.contact,
            "description": p.description,
            "recommendations": counts.get(p.person_id, 0),
            "updated": p.updated_at.isoformat(timespec="seconds"),
        }
        for p in profiles
    ]


def as_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    columns = list(rows[0]) if rows else ["name", "accounts", "company", "trade", "region"]
    out = csv.DictWriter(buf, fieldnames=columns)
    out.writeheader()
    for row in rows:
        out.writerow({k: csv_cell(v) if isinstance(v, str) else v for k, v in row.items()})
    return buf.getvalue()


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


async def export_profiles(ctx: Context) -> None:
    """``/profile export`` (hosts): the profiles as a CSV file, and a one-time link."""
    from bridge.exports import export_url
    from bridge.messages import FileAttachment
    from bridge.models.surveys import SurveyExport

    content = as_csv(await profile_rows(ctx.session, ctx.community.id))
    token = secrets.token_urlsafe(24)
    ctx.session.add(
        SurveyExport(
            token=token,
            survey_id=None,
            person_id=ctx.person_id,
            filename="profiles.csv",
            content=content,
            created_at=ctx.now,
            expires_at=ctx.now + EXPORT_TTL,
        )
    )
    await ctx.session.flush()
    await ctx.audit("profiles.export", "profiles")
    ctx.reply(
        ctx._("The profiles as CSV (private profiles left out)."),
        file=FileAttachment(
            name="profiles.csv",
            content=content.encode("utf-8"),
            mime="text/csv",
            fallback_url=export_url(ctx.bridge, token),
        ),
        private=True,
    )


async def most_recommended(
    session: AsyncSession, community_id: int, limit: int = 5
) -> list[tuple[str, int]]:
    counts = await approved_counts(session, community_id)
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    names = await identity.display_names(session, [p for p, _ in top])
    return [(names.get(p) or f"#{p}", n) for p, n in top]


async def merge_persons(session: AsyncSession, from_id: int, into_id: int) -> None:
    """``/connect`` joined two persons: the profile and references move along (the
    remaining person's profile wins where both had one)."""
    from sqlalchemy import update

    if await session.get(Profile, into_id) is None:
        await session.execute(
            update(Profile).where(Profile.person_id == from_id).values(person_id=into_id)
        )
    else:
        await session.execute(delete(Profile).where(Profile.person_id == from_id))
    await session.execute(
        update(Reference).where(Reference.person_id == from_id).values(person_id=into_id)
    )
    await session.execute(
        delete(Recommendation).where(
            Recommendation.recommender_id == from_id,
            Recommendation.partner_id.in_(
                select(Recommendation.partner_id).where(Recommendation.recommender_id == into_id)
            ),
        )
    )
    await session.execute(
        update(Recommendation)
        .where(Recommendation.recommender_id == from_id)
        .values(recommender_id=into_id)
    )
    await session.execute(
        update(Recommendation)
        .where(Recommendation.partner_id == from_id)
        .values(partner_id=into_id)
    )
