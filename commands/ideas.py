"""``/idea``, ``/ideas``, ``/vote``, ``/comment``: propose, list, support and discuss ideas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.context import Context
from bridge.errors import NotFound, UserError
from bridge.feeds import FeedItem, feed_source
from bridge.i18n import N_, Translator, translator
from bridge.messages import Bold, Button, Code, FormRequest, Message, Part, Text, fmt
from bridge.models import Group
from bridge.models.ideas import Idea
from bridge.registry import Param, action, command, merge_hook, renderer
from bridge.services import counters, identity
from bridge.services import ideas as svc

if TYPE_CHECKING:
    from bridge.core import Bridge

__all__ = ["STATUS_LABELS", "find_idea", "idea_line", "status_label"]

STATUS_LABELS = {
    "new": N_("new"),
    "review": N_("in review"),
    "shortlisted": N_("shortlisted"),
    "project": N_("project"),
    "done": N_("done"),
    "rejected": N_("rejected"),
}
ORDERS = ("new", "top", "mine", "shortlisted")
ORDER_LABELS = {
    "new": N_("newest first"),
    "top": N_("most votes first"),
    "mine": N_("yours"),
    "shortlisted": N_("shortlisted"),
}
PAGE_SIZE = 10
COMMENT_MAX = 2000
IDEA_PARAM = Param("idea", N_("the idea, e.g. I-12"))


def status_label(t: Translator, status: str) -> str:
    return t.gettext(STATUS_LABELS.get(status, status))


def idea_line(t: Translator, idea: Idea, tally: svc.Tally) -> list[Part]:
    """``I-3 Title — 2 votes — new``: one line of a list."""
    votes = t.ngettext("{n} vote", "{n} votes", tally.score).format(n=tally.score)
    return [
        Code(text=idea.ref),
        Text(text=" " + idea.title),
        Text(text=f" — {votes} — {status_label(t, idea.status)}"),
    ]


# ------------------------------------------------------------------ finding an idea


async def _check_visible(ctx: Context, idea: Idea | None, shown: str) -> tuple[Idea, Group]:
    group = await ctx.session.get(Group, idea.group_id) if idea is not None else None
    if (
        idea is None
        or group is None
        or idea.community_id != ctx.community.id
        or not await svc.visible_to(
            ctx.session,
            group,
            ctx.person_id,
            ctx.group.id if ctx.group else None,
            ctx.is_dm,
            ctx.is_admin,
        )
    ):
        raise NotFound(
            N_(
                "There is no idea {idea} that you can see here. /ideas lists the "
                "ideas of this channel's group."
            ),
            idea=shown,
        )
    return idea, group


async def find_idea(ctx: Context, ref: str) -> tuple[Idea, Group]:
    """The idea a command names (``I-12``, ``i-12``, ``12``), if it may be shown here."""
    number = counters.parse_ref("I", ref)
    idea = await svc.find_idea(ctx.session, ctx.community.id, number)
    return await _check_visible(ctx, idea, counters.format_ref("I", number))


async def _idea_by_id(ctx: Context, ident: str) -> tuple[Idea, Group]:
    idea = await ctx.session.get(Idea, int(ident)) if ident.isdigit() else None
    return await _check_visible(ctx, idea, idea.ref if idea else "?")


# ------------------------------------------------------------------ the card


async def _card(
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
        parts.append(Text(text="\n" + idea.description))
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


@renderer("idea")
async def render_idea(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    idea = await session.get(Idea, int(ident)) if ident.isdigit() else None
    return await _card(session, idea, locale) if idea is not None else None


@renderer("showcase")
async def render_showcase(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    """The copy in the showcase; withdrawn there if its group has become closed."""
    idea = await session.get(Idea, int(ident)) if ident.isdigit() else None
    if idea is None:
        return None
    group = await session.get(Group, idea.group_id)
    if group is None or group.visibility == "closed":
        t = translator(locale)
        return Message(parts=(Text(text=t.gettext(N_("This idea is no longer shown here."))),))
    return await _card(session, idea, locale, showcase=True)


# ------------------------------------------------------------------ /idea


@command(
    "idea",
    who="member",
    in_group=True,
    help=N_("Propose an idea to this channel's group."),
    params=[
        Param(
            "text",
            N_("a short title, then | and a description"),
            kind="text",
            metavar="title [| description]",
        )
    ],
)
async def idea(ctx: Context, text: str) -> None:
    group = ctx.require_group()
    title, _, description = text.partition("|")
    title, description = " ".join(title.split()), description.strip()
    svc.check_text(title, description)
    similar = await svc.similar_ideas(ctx.session, ctx.community.id, group.id, title, description)
    if not similar:
        await _propose(ctx, group.id, title, description)
        return
    draft = await svc.create_draft(
        ctx.session, ctx.community.id, group.id, ctx.person_id, title, description, ctx.now
    )
    counts = await svc.tallies(ctx.session, (i.id for i in similar))
    parts: list[Part] = [
        Text(
            text=ctx._(
                "Before I post it: these ideas look like yours. "
                "Support one of them, or propose yours anyway."
            )
        )
    ]
    for item in similar:
        parts.append(Text(text="\n• "))
        parts.extend(idea_line(ctx.t, item, counts[item.id]))
    buttons = [
        Button(
            label=ctx._("Support {idea}").format(idea=item.ref),
            action="i.sup",
            args=(str(item.id),),
        )
        for item in similar
    ]
    buttons.append(
        Button(
            label=ctx._("Propose anyway"), action="i.new", args=(str(draft.id),), style="primary"
        )
    )
    ctx.reply(*parts, buttons=buttons)


async def _propose(ctx: Context, group_id: int, title: str, description: str) -> Idea:
    item, _keys = await svc.create_idea(
        ctx.session,
        ctx.bridge,
        ctx.community.id,
        group_id,
        ctx.person_id,
        title,
        description,
        ctx.now,
    )
    ctx.reply(
        *ctx.fmt(
            N_(
                "Thanks! Your idea {idea} is posted in the group's channels; others "
                "can support it there."
            ),
            idea=Code(text=item.ref),
        )
    )
    return item


@action("i.new", who="member")
async def propose_anyway(ctx: Context, draft_id: str = "") -> None:
    if not draft_id.isdigit():
        raise UserError(N_("This draft is not yours or no longer exists. Send /idea again."))
    draft = await svc.use_draft(ctx.session, int(draft_id), ctx.person_id, ctx.now)
    item = await _propose(ctx, draft.group_id, draft.title, draft.description)
    draft.idea_id = item.id
    await ctx.session.flush()


# ------------------------------------------------------------------ /vote and Support

DIRECTIONS = {"up": 1, "down": -1, "withdraw": None}


@command(
    "vote",
    who="member",
    help=N_("Vote for an idea (one vote per person, on every platform)."),
    params=[
        IDEA_PARAM,
        Param(
            "direction",
            N_("up (default), down or withdraw"),
            kind="choice",
            choices=tuple(DIRECTIONS),
            required=False,
        ),
    ],
)
async def vote(ctx: Context, idea: str, direction: str | None) -> None:
    item, _group = await find_idea(ctx, idea)
    await _vote(ctx, item, DIRECTIONS[direction or "up"])


@action("i.sup", who="member")
async def support_button(ctx: Context, idea_id: str = "") -> None:
    item, _group = await _idea_by_id(ctx, idea_id)
    await _vote(ctx, item, 1)


async def _vote(ctx: Context, item: Idea, value: int | None) -> None:
    ref = Code(text=item.ref)
    if value is not None and item.status in svc.VOTING_CLOSED:
        raise UserError(
            N_("{idea} is {status}; voting on it is closed."),
            idea=item.ref,
            status=status_label(ctx.t, item.status),
        )
    outcome = await svc.cast_vote(ctx.session, item, ctx.person_id, value, ctx.now)
    if outcome in ("added", "changed", "withdrawn"):
        await svc.refresh_idea(ctx.session, ctx.bridge, item)
    tally = (await svc.tallies(ctx.session, [item.id]))[item.id]
    count = ctx.ngettext("{n} supporter", "{n} supporters", tally.up).format(n=tally.up)
    if outcome == "none":
        raise UserError(N_("You have no vote on {idea} to withdraw."), idea=item.ref)
    if outcome == "withdrawn":
        ctx.reply(
            *ctx.fmt(N_("Your vote on {idea} is withdrawn ({count})."), idea=ref, count=count)
        )
    elif outcome == "same" and value == 1:
        ctx.reply(
            *ctx.fmt(
                N_("You support {idea} already; nothing changed. To take it back: {command}"),
                idea=ref,
                command=Code(text=f"/vote {item.ref} withdraw"),
            )
        )
    elif outcome == "same":
        ctx.reply(*ctx.fmt(N_("You voted against {idea} already; nothing changed."), idea=ref))
    elif value == 1:
        ctx.reply(*ctx.fmt(N_("You support {idea} now ({count})."), idea=ref, count=count))
    else:
        ctx.reply(*ctx.fmt(N_("Your vote against {idea} is counted."), idea=ref))


# ------------------------------------------------------------------ /comment


@command(
    "comment",
    who="member",
    help=N_("Comment on an idea; the comment appears under its card."),
    params=[IDEA_PARAM, Param("text", N_("your comment"), kind="text")],
)
async def comment(ctx: Context, idea: str, text: str) -> None:
    item, group = await find_idea(ctx, idea)
    text = text.strip()
    if len(text) > COMMENT_MAX:
        raise UserError(
            N_("The comment is too long ({length} characters, at most {limit})."),
            length=len(text),
            limit=COMMENT_MAX,
        )
    await svc.add_comment(ctx.session, item, ctx.person_id, text, ctx.now)
    t = translator(ctx.bridge.default_locale)
    message = Message(
        parts=tuple(
            fmt(
                t.gettext(N_("💬 {who} on {idea}: {text}")),
                who=ctx.me(),
                idea=Code(text=item.ref),
                text=text,
            )
        )
    )
    outbox = ctx.bridge.outbox
    await outbox.post_to_group(ctx.session, group.id, message, reply_to_ref=svc.card_ref(item))
    if item.showcase_group_id is not None and group.visibility != "closed":
        await outbox.post_to_group(
            ctx.session, item.showcase_group_id, message, reply_to_ref=svc.showcase_ref(item)
        )
    ctx.reply(*ctx.fmt(N_("Your comment is posted under {idea}."), idea=Code(text=item.ref)))


@action("i.com", who="member")
async def comment_button(ctx: Context, idea_id: str = "") -> None:
    item, _group = await _idea_by_id(ctx, idea_id)
    ctx.reply(
        *ctx.fmt(
            N_("To comment, type {command} followed by your comment."),
            command=Code(text=f"/comment {item.ref}"),
        ),
        form=FormRequest(
            command="comment",
            prefill={"idea": item.ref},
            title=ctx._("Comment on {idea}").format(idea=item.ref),
        ),
    )


# ------------------------------------------------------------------ /ideas


@command(
    "ideas",
    who="member",
    in_group=True,
    help=N_("List this group's ideas: new, top, mine or shortlisted."),
    params=[
        Param(
            "order",
            N_("new (default), top, mine or shortlisted"),
            kind="choice",
            choices=ORDERS,
            required=False,
        ),
        Param("page", N_("page number"), kind="int", required=False),
    ],
)
async def ideas(ctx: Context, order: str | None, page: int | None) -> None:
    await _list(ctx, order or "new", page or 1)


@action("i.list", who="member")
async def more_button(ctx: Context, order: str = "new", page: str = "1") -> None:
    if order not in ORDERS or not page.isdigit():
        raise UserError(N_("This button has expired."))
    await _list(ctx, order, int(page))


async def _list(ctx: Context, order: str, page: int) -> None:
    group = ctx.require_group()
    if page < 1:
        raise UserError(N_("Pages start at 1."))
    rows, total = await svc.list_ideas(
        ctx.session, group.id, order, ctx.person_id, (page - 1) * PAGE_SIZE, PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    if total == 0:
        if order == "mine":
            ctx.reply(ctx._("You have not proposed an idea in this group yet."))
        elif order == "shortlisted":
            ctx.reply(ctx._("No idea of this group is shortlisted yet."))
        else:
            ctx.reply(
                *ctx.fmt(
                    N_("No ideas here yet. Propose one with {command}."),
                    command=Code(text="/idea <title> | <description>"),
                )
            )
        return
    if page > pages:
        raise UserError(
            N_("There is no page {page}; the list has {pages}."), page=page, pages=pages
        )
    parts: list[Part] = ctx.fmt(
        N_("Ideas of {group} ({order}), page {page} of {pages}:"),
        group=Bold(text=group.slug),
        order=ctx._(ORDER_LABELS[order]),
        page=page,
        pages=pages,
    )
    for item, tally in rows:
        parts.append(Text(text="\n"))
        parts.extend(idea_line(ctx.t, item, tally))
    buttons = []
    if page < pages:
        buttons.append(Button(label=ctx._("More"), action="i.list", args=(order, str(page + 1))))
    ctx.reply(*parts, buttons=buttons)


# ------------------------------------------------------------------ /connect and feeds


@merge_hook
async def merge_votes(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Joined accounts count once: a second vote on the same idea is dropped, cards redrawn."""
    changed = await svc.merge_persons(session, from_id, into_id)
    bridge = session.info.get("bridge")
    if bridge is None:
        return
    for idea_id in changed:
        item = await session.get(Idea, idea_id)
        if item is not None:
            await svc.refresh_idea(session, bridge, item)


@feed_source
async def idea_feed(session: AsyncSession, bridge: Bridge, group: Group) -> list[FeedItem]:
    """A public group's newest ideas, and in the showcase the promoted ideas of public groups."""
    rows = (
        (
            await session.execute(
                select(Idea)
                .join(Group, Group.id == Idea.group_id)
                .where(
                    Group.visibility == "public",
                    or_(
                        Idea.group_id == group.id,
                        and_(Idea.showcase_group_id == group.id, Idea.promoted_at.is_not(None)),
                    ),
                )
                .order_by(Idea.updated_at.desc(), Idea.id.desc())
                .limit(50)
            )
        )
        .scalars()
        .all()
    )
    counts = await svc.tallies(session, (i.id for i in rows))
    t = translator(bridge.default_locale)
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
