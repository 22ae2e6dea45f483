"""How ideas look: the card in linked channels and the showcase, list lines, notices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.feeds import FeedItem
from bridge.i18n import N_, Translator, translator
from bridge.messages import Bold, Button, Code, Message, Part, Text, continued, fmt
from bridge.models import Group
from bridge.models.ideas import Idea, IdeaComment
from bridge.sanitize import is_number
from bridge.services import ideas as svc
from bridge.services import identity

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = [
    "STATUS_LABELS",
    "card",
    "feed_items",
    "idea_line",
    "render_idea",
    "render_showcase",
    "status_label",
    "status_mention",
    "status_notice",
]

STATUS_LABELS = {
    "withdrawn": N_("withdrawn"),
    "new": N_("new"),
    "review": N_("in review"),
    "shortlisted": N_("shortlisted"),
    "project": N_("project"),
    "done": N_("done"),
    "rejected": N_("rejected"),
}


def status_label(t: Translator, status: str) -> str:
    return t.gettext(STATUS_LABELS.get(status, status))


def idea_line(t: Translator, idea: Idea, tally: svc.Tally) -> list[Part]:
    """``I-3 Title — 2 votes — new``: one line of a list."""
    votes = t.ngettext("{n} vote", "{n} votes", tally.score).format(n=tally.score)
    return [
        Code(text=idea.ref),
        Text(text=" " + continued(idea.title)),
        Text(text=f" — {votes} — {status_label(t, idea.status)}"),
    ]


async def card(
    session: AsyncSession, idea: Idea, locale: str, showcase: bool = False
) -> Message | None:
    group = await session.get(Group, idea.group_id)
    if group is None:
        return None
    t = translator(locale)
    tally = (await svc.tallies(session, [idea.id]))[idea.id]
    proposer = await identity.person_mention(session, idea.proposer_id)
    parts: list[Part] = [
        Text(text="⭐ " if showcase else "💡 "),
        Code(text=idea.ref),
        Text(text=" "),
        Bold(text=idea.title),
    ]
    if idea.description:
        parts.append(Text(text="\n" + continued(idea.description)))
    parts.append(Text(text="\n"))
    parts.extend(fmt(t.gettext(N_("Proposed by {who} in {group}")), who=proposer, group=group.slug))
    status = status_label(t, idea.status)
    if idea.status_reason:
        status = f"{status} ({idea.status_reason})"
    parts.append(Text(text=" · "))
    parts.extend(fmt(t.gettext(N_("Status: {status}")), status=status))
    supporters = t.ngettext("{n} supporter", "{n} supporters", tally.up).format(n=tally.up)
    parts.append(Text(text=f" · {supporters}"))
    if tally.down:
        against = t.ngettext("{n} against", "{n} against", tally.down).format(n=tally.down)
        parts.append(Text(text=f" · {against}"))
    if idea.project_group_id is not None:
        project = await session.get(Group, idea.project_group_id)
        if project is not None:
            parts.append(Text(text="\n"))
            parts.extend(fmt(t.gettext(N_("Project group: {group}")), group=project.slug))
    buttons: list[Button] = []
    if idea.status not in svc.VOTING_CLOSED:
        buttons.append(
            Button(
                label=t.gettext(N_("Support ({n})")).format(n=tally.up),
                action="i.sup",
                args=(str(idea.id),),
                style="primary",
            )
        )
    buttons.append(Button(label=t.gettext(N_("Comment")), action="i.com", args=(str(idea.id),)))
    return Message(parts=tuple(parts), buttons=tuple(buttons))


async def render_idea(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    """The card in the idea's own group's channels (tracked as ``idea:<id>``)."""
    idea = await session.get(Idea, int(ident)) if is_number(ident) else None
    return await card(session, idea, locale) if idea is not None else None


async def render_showcase(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    """The copy in the showcase; withdrawn there if its group has become closed."""
    idea = await session.get(Idea, int(ident)) if is_number(ident) else None
    if idea is None:
        return None
    group = await session.get(Group, idea.group_id)
    if group is None or group.visibility == "closed":
        t = translator(locale)
        return Message(parts=(Text(text=t.gettext(N_("This idea is no longer shown here."))),))
    return await card(session, idea, locale, showcase=True)


async def render_comment(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    """A comment under an idea's cards (tracked as ``comment:<id>``): edits and deletions
    follow."""
    comment = await session.get(IdeaComment, int(ident)) if is_number(ident) else None
    if comment is None:
        return None
    idea = await session.get(Idea, comment.idea_id)
    if idea is None:
        return None
    t = translator(locale)
    if comment.deleted_at is not None:
        return Message(
            parts=tuple(
                fmt(t.gettext(N_("💬 A comment on {idea} was deleted.")), idea=Code(text=idea.ref))
            )
        )
    who = await identity.person_mention(session, comment.person_id)
    parts = fmt(
        t.gettext(N_("💬 {who} on {idea}: {text}")),
        who=who,
        idea=Code(text=idea.ref),
        text=comment.text,
    )
    if comment.edited_at is not None:
        parts.append(Text(text=" " + t.gettext(N_("(edited)"))))
    return Message(parts=tuple(parts))


def comment_lines(t: Translator, comments: list[IdeaComment], names: dict[int, str]) -> list[Part]:
    """An idea's comments, numbered as ``/comment edit`` names them."""
    if not comments:
        return [Text(text="\n" + t.gettext(N_("No comments yet.")))]
    parts: list[Part] = [
        Text(
            text="\n"
            + t.ngettext("{n} comment:", "{n} comments:", len(comments)).format(n=len(comments))
        )
    ]
    for number, comment in enumerate(comments, 1):
        if comment.deleted_at is not None:
            parts.append(Text(text=f"\n{number}. " + t.gettext(N_("(deleted)"))))
            continue
        parts.append(Text(text=f"\n{number}. "))
        parts.append(Bold(text=names.get(comment.person_id, "?")))
        parts.append(Text(text=": " + continued(comment.text)))
    return parts


def status_notice(t: Translator, idea: Idea, to_proposer: bool, project: Group | None) -> Message:
    """The private notice to a proposer or supporter that an idea moved."""
    status = Bold(text=status_label(t, idea.status))
    if to_proposer:
        msgid = N_("Your idea {idea} “{title}” has a new status: {status}.")
    else:
        msgid = N_("The idea {idea} “{title}” that you support has a new status: {status}.")
    parts = fmt(t.gettext(msgid), idea=Code(text=idea.ref), title=idea.title, status=status)
    if idea.status_reason:
        parts.extend(fmt("\n" + t.gettext(N_("Reason: {reason}")), reason=idea.status_reason))
    if project is not None:
        parts.extend(
            fmt(
                "\n" + t.gettext(N_("You are a member of its project group {group}.")),
                group=Bold(text=project.slug),
            )
        )
    return Message(parts=tuple(parts))


def status_mention(t: Translator, idea: Idea, who: Part) -> Message:
    """Where the person cannot get the notice privately: a short mention in the group."""
    return Message(
        parts=tuple(
            fmt(
                t.gettext(N_("{who}: {idea} has a new status: {status}.")),
                who=who,
                idea=Code(text=idea.ref),
                status=status_label(t, idea.status),
            )
        )
    )


def feed_items(t: Translator, rows: list[Idea], counts: dict[int, svc.Tally]) -> list[FeedItem]:
    """A public group's ideas as feed entries."""
    out = []
    for item in rows:
        tally = counts[item.id]
        status = status_label(t, item.status)
        supporters = t.ngettext("{n} supporter", "{n} supporters", tally.up).format(n=tally.up)
        summary = t.gettext(N_("Status: {status}")).format(status=status) + f" · {supporters}"
        if item.status_reason:
            summary += f" ({item.status_reason})"
        if item.description:
            summary = item.description + "\n\n" + summary
        out.append(
            FeedItem(
                key=item.ref,
                title=f"{item.ref}: {item.title} [{status}]",
                summary=summary,
                published=item.created_at,
                updated=item.updated_at,
            )
        )
    return out
