"""How partners look: the profile card and a line of ``/partners``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.i18n import N_, Translator
from bridge.messages import Bold, Code, Link, Part, Text, continued
from bridge.models.partners import Profile, Recommendation, Reference, Trade
from bridge.services import identity

__all__ = ["partner_line", "profile_card"]


async def profile_card(session: AsyncSession, t: Translator, profile: Profile) -> list[Part]:
    """Company, trade, region, what they do, how to reach them; references (a customer
    named only once confirmed) and approved recommendations with the recommender's name."""
    name = (await identity.display_names(session, [profile.person_id])).get(profile.person_id, "")
    trade = await session.get(Trade, profile.trade_id) if profile.trade_id else None
    head = profile.company or name
    parts: list[Part] = [Text(text="🏷 "), Bold(text=head)]
    if profile.company and name:
        parts.append(Text(text=f" ({name})"))
    facts = [f for f in (trade.name if trade else "", profile.region) if f]
    if facts:
        parts.append(Text(text="\n" + " · ".join(facts)))
    if profile.description:
        parts.append(Text(text="\n" + continued(profile.description)))
    if profile.website:
        parts.append(Text(text="\n"))
        parts.append(Link(url=profile.website, text=profile.website))
    if profile.contact:
        parts.append(
            Text(text="\n" + t.gettext(N_("Contact: {contact}")).format(contact=profile.contact))
        )
    if profile.private:
        parts.append(Text(text="\n" + t.gettext(N_("(private: members of their groups only)"))))
    refs = (
        (
            await session.execute(
                select(Reference)
                .where(Reference.person_id == profile.person_id)
                .order_by(Reference.number)
            )
        )
        .scalars()
        .all()
    )
    if refs:
        parts.append(Text(text="\n" + t.gettext(N_("References:"))))
        customers = await identity.display_names(
            session, [r.customer_id for r in refs if r.customer_id and r.confirmed_at]
        )
        for ref in refs:
            parts += [Text(text="\n• "), Code(text=ref.ref), Text(text=" " + ref.title)]
            if ref.customer_id and ref.confirmed_at:
                parts.append(
                    Text(
                        text=" — "
                        + t.gettext(N_("customer: {who}")).format(
                            who=customers.get(ref.customer_id, "?")
                        )
                    )
                )
            if ref.description:
                parts.append(Text(text=": " + continued(ref.description)))
            if ref.link:
                parts += [Text(text=" "), Link(url=ref.link, text=ref.link)]
    recs = (
        (
            await session.execute(
                select(Recommendation)
                .where(
                    Recommendation.partner_id == profile.person_id,
                    Recommendation.status == "approved",
                )
                .order_by(Recommendation.number)
            )
        )
        .scalars()
        .all()
    )
    if recs:
        names = await identity.display_names(session, [r.recommender_id for r in recs])
        parts.append(
            Text(
                text="\n"
                + t.ngettext("{n} recommendation:", "{n} recommendations:", len(recs)).format(
                    n=len(recs)
                )
            )
        )
        for rec in recs:
            parts += [
                Text(text="\n“" + continued(rec.text) + "” — "),
                Bold(text=names.get(rec.recommender_id, "?")),
            ]
    return parts


def partner_line(
    t: Translator, profile: Profile, name: str, trades: dict[int, str], recommended: int
) -> list[Part]:
    """``Meier Elektro (Max) — electrician · 80331 — 3 recommendations``."""
    bits = [b for b in (trades.get(profile.trade_id or 0, ""), profile.region) if b]
    line: list[Part] = [Bold(text=profile.company or name)]
    if profile.company:
        line.append(Text(text=f" ({name})"))
    if bits:
        line.append(Text(text=" — " + " · ".join(bits)))
    if recommended:
        line.append(
            Text(
                text=" — "
                + t.ngettext("{n} recommendation", "{n} recommendations", recommended).format(
                    n=recommended
                )
            )
        )
    return line
