"""How questions look: the card where they were asked and the card on the host desk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.i18n import N_, Translator, translator
from bridge.messages import Bold, Button, Code, Message, Part, Text, continued
from bridge.models import Group
from bridge.models.questions import Question
from bridge.sanitize import is_number
from bridge.services.questions import (
    _f,
    _message,
    name_of,
    where_label,
)

if TYPE_CHECKING:
    from bridge.core import Bridge


def action_buttons(t: Translator, q: Question, claim: bool = True) -> list[Button]:
    buttons = []
    if claim and q.status == "open" and q.claimed_by_id is None:
        buttons.append(
            Button(
                label=t.gettext(N_("Claim")), action="q.claim", args=(str(q.id),), style="primary"
            )
        )
    if q.status != "closed":
        buttons.append(Button(label=t.gettext(N_("Answer")), action="q.ans", args=(str(q.id),)))
    return buttons


async def card_message(
    session: AsyncSession, bridge: Bridge, q: Question, t: Translator
) -> Message | None:
    """The question as the group's channels see it (never drawn for a private question)."""
    if q.private:
        return None
    asker = await name_of(session, q.asker_id)
    lines: list[list[Part]] = [
        _f(t, N_("{ref}: question from {who}"), ref=Bold(text=q.ref), who=Bold(text=asker)),
        [Text(text=continued(q.text))],
    ]
    if q.status == "open":
        lines.append(
            _f(
                t,
                N_("Open: the hosts have been told. Anyone here may answer with {command}."),
                command=Code(text=f"/answer {q.ref} <text>"),
            )
        )
    elif q.status == "answered":
        lines.append(
            _f(t, N_("Answered by {who}."), who=Bold(text=await name_of(session, q.answered_by_id)))
        )
    else:
        lines.append([Text(text=t.gettext(N_("Closed.")))])
    buttons = (
        []
        if q.status == "closed"
        else [Button(label=t.gettext(N_("Answer")), action="q.ans", args=(str(q.id),))]
    )
    return _message(lines, buttons)


async def desk_message(
    session: AsyncSession, bridge: Bridge, q: Question, t: Translator
) -> Message:
    """The question as the hosts see it: who, where, claim state, Claim and Answer buttons."""
    group = await session.get(Group, q.group_id)
    values: dict[str, Any] = {
        "ref": Bold(text=q.ref),
        "who": Bold(text=await name_of(session, q.asker_id)),
        "where": await where_label(session, q.origin_channel_key),
        "group": group.slug if group else "?",
    }
    if q.private:
        head = _f(t, N_("{ref} (private) from {who} in {where}, group {group}:"), **values)
    else:
        head = _f(t, N_("{ref} from {who} in {where}, group {group}:"), **values)
    lines: list[list[Part]] = [head, [Text(text=continued(q.text))]]
    due = t.when(q.asked_at + bridge.config.questions.answer_within)
    if q.status == "open" and q.claimed_by_id is None:
        lines.append(_f(t, N_("Nobody has claimed it yet. Answer by {due}."), due=due))
    elif q.status == "open":
        lines.append(
            _f(
                t,
                N_("Claimed by {who}. Answer by {due}."),
                who=Bold(text=await name_of(session, q.claimed_by_id)),
                due=due,
            )
        )
    elif q.status == "answered":
        lines.append(
            _f(t, N_("Answered by {who}."), who=Bold(text=await name_of(session, q.answered_by_id)))
        )
    else:
        lines.append([Text(text=t.gettext(N_("Closed.")))])
    return _message(lines, action_buttons(t, q))


async def render(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str, desk: bool
) -> Message | None:
    if not is_number(ident):
        return None
    q = await session.get(Question, int(ident))
    if q is None:
        return None
    t = translator(locale)
    if desk:
        return await desk_message(session, bridge, q, t)
    return await card_message(session, bridge, q, t)


async def render_card(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    return await render(session, bridge, ident, locale, desk=False)


async def render_desk(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    return await render(session, bridge, ident, locale, desk=True)
