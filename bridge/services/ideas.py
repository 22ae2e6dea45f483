"""Ideas: numbering, visibility, one vote per person, similar-idea ranking, lifecycle, feeds."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import search as index
from bridge import similarity
from bridge.db import affected, insert_ignore, like_pattern
from bridge.db import count as db_count
from bridge.errors import Denied, NotFound, UsageError, UserError, check_length
from bridge.i18n import N_, translator
from bridge.messages import (
    Bold,
    Button,
    Code,
    FileAttachment,
    FormRequest,
    Part,
    Text,
)
from bridge.models import Group
from bridge.models.ideas import (
    IDEA_STATUSES,
    WITHDRAWN,
    Idea,
    IdeaComment,
    IdeaDraft,
    IdeaVote,
)
from bridge.models.search import SearchTerm
from bridge.sanitize import csv_cell, is_number
from bridge.services import counters
from bridge.services import groups as groups_svc

if TYPE_CHECKING:
    from bridge.context import Context
    from bridge.core import Bridge
    from bridge.feeds import FeedItem

__all__ = [
    "DRAFT_TTL",
    "STATUSES",
    "VOTING_CLOSED",
    "Tally",
    "add_comment",
    "card_ref",
    "cast_vote",
    "check_text",
    "create_draft",
    "create_idea",
    "find_idea",
    "list_ideas",
    "merge_persons",
    "project_slug",
    "rank_similar",
    "refresh_idea",
    "showcase_ref",
    "similar_ideas",
    "supporters",
    "taken_slugs",
    "tallies",
    "terms",
    "use_draft",
    "visible_to",
]

STATUSES = IDEA_STATUSES
#: no new support or opposition once an idea is finished
VOTING_CLOSED = ("done", "rejected", WITHDRAWN)
DRAFT_TTL = timedelta(hours=1)
TITLE_MAX = 200
DESCRIPTION_MAX = 4000
#: cosine similarity (TF-IDF, title words counted twice) from which an idea is offered
SIMILAR_THRESHOLD = 0.3
SIMILAR_LIMIT = 3


# ------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Tally:
    up: int = 0
    down: int = 0

    @property
    def score(self) -> int:
        return self.up - self.down


async def tallies(session: AsyncSession, idea_ids: Iterable[int]) -> dict[int, Tally]:
    """Supporters and opponents per idea, counted from the votes (never a cached number)."""
    ids = sorted(set(idea_ids))
    out = {i: Tally() for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        select(
            IdeaVote.idea_id,
            func.sum(case((IdeaVote.value > 0, 1), else_=0)),
            func.sum(case((IdeaVote.value < 0, 1), else_=0)),
        )
        .where(IdeaVote.idea_id.in_(ids))
        .group_by(IdeaVote.idea_id)
    )
    for idea_id, up, down in rows.all():
        out[idea_id] = Tally(int(up or 0), int(down or 0))
    return out


async def find_idea(session: AsyncSession, community_id: int, number: int) -> Idea | None:
    return (
        await session.execute(
            select(Idea).where(Idea.community_id == community_id, Idea.number == number)
        )
    ).scalar_one_or_none()


async def visible_to(
    session: AsyncSession,
    group: Group,
    person_id: int,
    here_group_id: int | None,
    in_dm: bool,
    is_admin: bool,
) -> bool:
    """May this idea content of ``group`` be shown here? (``groups.may_show``)"""
    return await groups_svc.may_show(session, group, person_id, here_group_id, in_dm, is_admin)


async def list_ideas(
    session: AsyncSession,
    group_id: int,
    order: str,
    person_id: int,
    offset: int,
    limit: int,
    count_up_to: int | None = None,
) -> tuple[list[tuple[Idea, Tally]], int]:
    """One page of a group's ideas (``new``, ``top``, ``mine``, ``shortlisted``) and the total
    (with ``count_up_to``, counted no further than one more than that: the count then costs
    the same in a group of any size)."""
    where = [Idea.group_id == group_id, Idea.status != WITHDRAWN]
    if order == "mine":
        where.append(Idea.proposer_id == person_id)
    elif order == "shortlisted":
        where.append(Idea.status == "shortlisted")
    listed = select(Idea.id).where(*where)
    if count_up_to is not None:
        listed = listed.limit(count_up_to + 1)
    total = int(
        (await session.execute(select(func.count()).select_from(listed.subquery()))).scalar_one()
    )
    stmt = select(Idea).where(*where)
    if order in ("top", "shortlisted"):
        stmt = stmt.order_by(Idea.score.desc(), Idea.number.desc())
    else:
        stmt = stmt.order_by(Idea.number.desc())
    ideas = list((await session.execute(stmt.offset(offset).limit(limit))).scalars().all())
    counts = await tallies(session, (i.id for i in ideas))
    return [(i, counts[i.id]) for i in ideas], total


# ------------------------------------------------------------------ similar ideas


def rank_similar(
    title: str,
    description: str,
    candidates: Sequence[tuple[int, str, str]],
    limit: int = SIMILAR_LIMIT,
    threshold: float = SIMILAR_THRESHOLD,
) -> list[tuple[int, float]]:
    """Candidates ``(key, title, description)`` most like the new idea, best first
    (title words count twice; see ``bridge.similarity``)."""
    fields = [(key, ((t, 2), (d, 1))) for key, t, d in sorted(candidates)]
    found = similarity.rank_texts(((title, 2), (description, 1)), fields, limit, threshold)
    return [(m.key, m.score) for m in found]


terms = similarity.terms


async def similar_ideas(
    session: AsyncSession, community_id: int, here_group_id: int, title: str, description: str
) -> list[Idea]:
    """Up to three ideas like this one that may be shown in a channel of ``here_group_id``:
    of this group, or of any group that is not closed."""
    query = index.terms_of(title, description)
    if not query:
        return []

    def visible(lookup: Any) -> Any:  # this community's ideas that may be shown here
        return (
            lookup.join(Idea, Idea.id == SearchTerm.item_id)
            .join(Group, Group.id == Idea.group_id)
            .where(
                Idea.community_id == community_id,
                (Group.visibility != "closed") | (Group.id == here_group_id),
            )
        )

    found = index.hits("idea", query, index.PER_TERM, visible)
    rows = (
        await session.execute(
            select(Idea.id, Idea.title, Idea.description)
            .join(found, found.c.item_id == Idea.id)
            .order_by(found.c.hits.desc(), Idea.id.desc())
            .limit(index.CANDIDATES)
        )
    ).all()
    # the ranking is CPU work: in a worker thread, so the loop serves every chat meanwhile
    candidates = [(r[0], r[1], r[2]) for r in rows]
    ranked = await asyncio.to_thread(rank_similar, title, description, candidates)
    if not ranked:
        return []
    by_id = {
        i.id: i
        for i in (
            await session.execute(select(Idea).where(Idea.id.in_([k for k, _ in ranked])))
        ).scalars()
    }
    return [by_id[k] for k, _ in ranked]


# ------------------------------------------------------------------ writing


def check_text(title: str, description: str) -> None:
    if not title:
        raise UserError(N_("Your idea needs a title: /idea <title> | <description>."))
    check_length(title, TITLE_MAX, N_("The title"), N_("Put the details after a | as description."))
    check_length(description, DESCRIPTION_MAX, N_("The description"))


async def create_idea(
    session: AsyncSession,
    bridge: Bridge,
    community_id: int,
    group_id: int,
    person_id: int,
    title: str,
    description: str,
    now: datetime,
) -> tuple[Idea, list[str]]:
    """Number, store and announce a new idea in every channel of its group."""
    number = await counters.next_number(session, community_id, "idea")
    idea = Idea(
        community_id=community_id,
        group_id=group_id,
        number=number,
        title=title,
        description=description,
        proposer_id=person_id,
        status="new",
        created_at=now,
        updated_at=now,
    )
    session.add(idea)
    await session.flush()
    await index.reindex(session, "idea", idea.id, title, description)
    keys = await bridge.outbox.post_to_group(session, group_id, ref_key=card_ref(idea))
    return idea, keys


async def create_draft(
    session: AsyncSession,
    community_id: int,
    group_id: int,
    person_id: int,
    title: str,
    description: str,
    now: datetime,
) -> IdeaDraft:
    await session.execute(delete(IdeaDraft).where(IdeaDraft.expires_at < now - DRAFT_TTL))
    draft = IdeaDraft(
        community_id=community_id,
        group_id=group_id,
        person_id=person_id,
        title=title,
        description=description,
        created_at=now,
        expires_at=now + DRAFT_TTL,
    )
    session.add(draft)
    await session.flush()
    return draft


async def use_draft(
    session: AsyncSession, draft_id: int, person_id: int, now: datetime
) -> IdeaDraft:
    """Claim a draft once (a second press, or a retry, finds it used)."""
    draft = await session.get(IdeaDraft, draft_id)
    if draft is None or draft.person_id != person_id:
        raise NotFound(N_("This draft is not yours or no longer exists. Send /idea again."))
    claimed = await session.execute(
        update(IdeaDraft)
        .where(IdeaDraft.id == draft_id, IdeaDraft.used_at.is_(None), IdeaDraft.expires_at > now)
        .values(used_at=now)
    )
    if affected(claimed) != 1:
        await session.refresh(draft)
        if draft.idea_id is not None:
            idea = await session.get(Idea, draft.idea_id)
            raise UserError(
                N_("You proposed this idea already: {idea}."), idea=idea.ref if idea else "?"
            )
        raise UserError(N_("This draft has expired. Send /idea again."))
    return draft


async def cast_vote(
    session: AsyncSession, idea: Idea, person_id: int, value: int | None, now: datetime
) -> str:
    """Set a person's vote (+1, -1) or withdraw it (None).

    Returns ``added``, ``changed``, ``same``, ``withdrawn`` or ``none``. The unique key on
    (idea, person) decides between concurrent votes of one person.
    """
    if value is None:
        gone = (
            await session.execute(
                delete(IdeaVote)
                .where(IdeaVote.idea_id == idea.id, IdeaVote.person_id == person_id)
                .returning(IdeaVote.value)
            )
        ).scalar_one_or_none()
        if gone is None:
            return "none"
        await _add_score(session, idea.id, -gone)
        return "withdrawn"
    inserted = await session.execute(
        insert_ignore(
            session,
            IdeaVote,
            {
                "idea_id": idea.id,
                "person_id": person_id,
                "value": value,
                "created_at": now,
                "updated_at": now,
            },
            ["idea_id", "person_id"],
        )
    )
    if affected(inserted) == 1:
        await _add_score(session, idea.id, value)
        return "added"
    changed = await session.execute(
        update(IdeaVote)
        .where(
            IdeaVote.idea_id == idea.id, IdeaVote.person_id == person_id, IdeaVote.value != value
        )
        .values(value=value, updated_at=now)
    )
    if affected(changed):
        await _add_score(session, idea.id, 2 * value)  # from -value to value
        return "changed"
    return "same"


async def _add_score(session: AsyncSession, idea_id: int, delta: int) -> None:
    """The idea's score in the vote's own transaction (atomic: concurrent votes add up)."""
    await session.execute(update(Idea).where(Idea.id == idea_id).values(score=Idea.score + delta))


def card_ref(idea: Idea) -> str:
    return f"idea:{idea.id}"


def showcase_ref(idea: Idea) -> str:
    return f"showcase:{idea.id}"


async def refresh_idea(session: AsyncSession, bridge: Bridge, idea: Idea) -> None:
    """Re-draw every card of the idea (its group's channels and the showcase), coalesced."""
    await bridge.outbox.refresh(session, card_ref(idea))
    if idea.showcase_group_id is not None:
        await bridge.outbox.refresh(session, showcase_ref(idea))


async def add_comment(
    session: AsyncSession, idea: Idea, person_id: int, text: str, now: datetime
) -> IdeaComment:
    comment = IdeaComment(idea_id=idea.id, person_id=person_id, text=text, created_at=now)
    session.add(comment)
    await session.flush()
    return comment


async def comments_of(session: AsyncSession, idea_id: int) -> list[IdeaComment]:
    """An idea's comments in order; their position (from 1) is their number."""
    return list(
        (
            await session.execute(
                select(IdeaComment).where(IdeaComment.idea_id == idea_id).order_by(IdeaComment.id)
            )
        )
        .scalars()
        .all()
    )


def comment_ref(comment_id: int) -> str:
    return f"comment:{comment_id}"


async def supporters(session: AsyncSession, idea_id: int) -> list[int]:
    return sorted(
        (
            await session.execute(
                select(IdeaVote.person_id).where(IdeaVote.idea_id == idea_id, IdeaVote.value > 0)
            )
        )
        .scalars()
        .all()
    )


def project_slug(title: str, number: int, taken: set[str]) -> str:
    """A free group name for the project of an idea, taken from its title."""
    base = groups_svc.slugify(title)
    if len(base) > 40:
        cut = base[:40]
        base = cut.rsplit("-", 1)[0] if "-" in cut else cut
    base = base.strip("-") or f"idea-{number}"
    if base not in taken:
        return base
    for k in range(2, 1000):
        candidate = f"{base}-{k}"
        if candidate not in taken:
            return candidate
    return f"{base}-i{number}"


async def taken_slugs(session: AsyncSession, community_id: int) -> set[str]:
    return set(
        (await session.execute(select(Group.slug).where(Group.community_id == community_id)))
        .scalars()
        .all()
    )


# ------------------------------------------------------------------ /connect


async def merge_persons(session: AsyncSession, from_id: int, into_id: int) -> list[int]:
    """Move a joined person's ideas, comments and votes; where both voted on one idea, the
    remaining person's vote stays. Returns the ids of ideas whose counts changed."""
    await session.execute(
        update(Idea).where(Idea.proposer_id == from_id).values(proposer_id=into_id)
    )
    await session.execute(
        update(IdeaComment).where(IdeaComment.person_id == from_id).values(person_id=into_id)
    )
    await session.execute(
        update(IdeaDraft).where(IdeaDraft.person_id == from_id).values(person_id=into_id)
    )
    both = (
        (
            await session.execute(
                select(IdeaVote.idea_id).where(
                    IdeaVote.person_id == from_id,
                    IdeaVote.idea_id.in_(
                        select(IdeaVote.idea_id).where(IdeaVote.person_id == into_id)
                    ),
                )
            )
        )
        .scalars()
        .all()
    )
    if both:
        dropped = (
            await session.execute(
                delete(IdeaVote)
                .where(IdeaVote.person_id == from_id, IdeaVote.idea_id.in_(both))
                .returning(IdeaVote.idea_id, IdeaVote.value)
            )
        ).all()
        for idea_id, value in dropped:
            await _add_score(session, int(idea_id), -int(value))
    await session.execute(
        update(IdeaVote).where(IdeaVote.person_id == from_id).values(person_id=into_id)
    )
    return sorted(both)


async def feed_ideas(session: AsyncSession, group: Group) -> list[Idea]:
    """A public group's newest ideas, and in the showcase the promoted ideas of public groups."""
    return list(
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


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context (who, where, the transaction, replies) and its parsed
# arguments; commands/ideas.py and commands/idea_status.py only declare and call these.

ORDERS = ("new", "top", "mine", "shortlisted")
ORDER_LABELS = {
    "new": N_("newest first"),
    "top": N_("most votes first"),
    "mine": N_("yours"),
    "shortlisted": N_("shortlisted"),
}
PAGE_SIZE = 10
#: a list's ideas are counted up to this many (100 pages): past that it says "100+"
COUNTED = 1000
COMMENT_MAX = 2000
REASON_MAX = 500
DIRECTIONS: dict[str, int | None] = {"up": 1, "down": -1, "withdraw": None}


async def _check_visible(ctx: Context, idea: Idea | None, shown: str) -> tuple[Idea, Group]:
    group = await ctx.session.get(Group, idea.group_id) if idea is not None else None
    if (
        idea is None
        or group is None
        or idea.community_id != ctx.community.id
        or not await visible_to(
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


async def find_visible(ctx: Context, ref: str) -> tuple[Idea, Group]:
    """The idea a command names (``I-12``, ``i-12``, ``12``), if it may be shown here."""
    number = counters.parse_ref("I", ref)
    idea = await find_idea(ctx.session, ctx.community.id, number)
    return await _check_visible(ctx, idea, counters.format_ref("I", number))


async def _by_id(ctx: Context, ident: str) -> tuple[Idea, Group]:
    idea = await ctx.session.get(Idea, int(ident)) if is_number(ident) else None
    return await _check_visible(ctx, idea, idea.ref if idea else "?")


async def propose(ctx: Context, text: str) -> None:
    """``/idea``: post it, or first offer the similar ideas with a draft to go on with."""
    from bridge.cards.ideas import idea_line

    group = ctx.require_group()
    title, _, description = text.partition("|")
    title, description = " ".join(title.split()), description.strip()
    check_text(title, description)
    similar = await similar_ideas(ctx.session, ctx.community.id, group.id, title, description)
    if not similar:
        await _propose(ctx, group.id, title, description)
        return
    draft = await create_draft(
        ctx.session, ctx.community.id, group.id, ctx.person_id, title, description, ctx.now
    )
    counts = await tallies(ctx.session, (i.id for i in similar))
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
    item, _keys = await create_idea(
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


async def propose_draft(ctx: Context, draft_id: str) -> None:
    """The "Propose anyway" button under the similar ideas."""
    if not is_number(draft_id):
        raise UserError(N_("This draft is not yours or no longer exists. Send /idea again."))
    draft = await use_draft(ctx.session, int(draft_id), ctx.person_id, ctx.now)
    item = await _propose(ctx, draft.group_id, draft.title, draft.description)
    draft.idea_id = item.id
    await ctx.session.flush()


async def vote(ctx: Context, ref: str, direction: str | None) -> None:
    """``/vote``: up (default), down or withdraw."""
    item, _group = await find_visible(ctx, ref)
    await _vote(ctx, item, DIRECTIONS[direction or "up"])


async def support(ctx: Context, idea_id: str) -> None:
    """The Support button on a card."""
    item, _group = await _by_id(ctx, idea_id)
    await _vote(ctx, item, 1)


async def _vote(ctx: Context, item: Idea, value: int | None) -> None:
    from bridge.cards.ideas import status_label

    ref = Code(text=item.ref)
    if value is not None and item.status in VOTING_CLOSED:
        raise UserError(
            N_("{idea} is {status}; voting on it is closed."),
            idea=item.ref,
            status=status_label(ctx.t, item.status),
        )
    outcome = await cast_vote(ctx.session, item, ctx.person_id, value, ctx.now)
    if outcome in ("added", "changed", "withdrawn"):
        await refresh_idea(ctx.session, ctx.bridge, item)
    tally = (await tallies(ctx.session, [item.id]))[item.id]
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


async def comment(ctx: Context, ref: str, text: str) -> None:
    """``/comment``: stored, and shown under the idea's cards."""
    item, group = await find_visible(ctx, ref)
    text = text.strip()
    check_length(text, COMMENT_MAX, N_("The comment"))
    posted = await add_comment(ctx.session, item, ctx.person_id, text, ctx.now)
    ref_key = comment_ref(posted.id)  # drawn at send time, re-drawn on edit and delete
    outbox = ctx.bridge.outbox
    await outbox.post_to_group(ctx.session, group.id, ref_key=ref_key, reply_to_ref=card_ref(item))
    if item.showcase_group_id is not None and group.visibility != "closed":
        await outbox.post_to_group(
            ctx.session, item.showcase_group_id, ref_key=ref_key, reply_to_ref=showcase_ref(item)
        )
    ctx.reply(*ctx.fmt(N_("Your comment is posted under {idea}."), idea=Code(text=item.ref)))


async def comment_form(ctx: Context, idea_id: str) -> None:
    """The Comment button on a card: how to comment, and a form where the platform has one."""
    item, _group = await _by_id(ctx, idea_id)
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


async def list_page(ctx: Context, order: str, page: int) -> None:
    """``/ideas`` and its More button."""
    from bridge.cards.ideas import idea_line

    if order not in ORDERS:
        raise UserError(N_("This button is no longer valid."))
    group = ctx.require_group()
    if page < 1:
        raise UserError(N_("Pages start at 1."))
    rows, total = await list_ideas(
        ctx.session,
        group.id,
        order,
        ctx.person_id,
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE,
        count_up_to=COUNTED,
    )
    exact = total <= COUNTED
    pages = max(1, -(-min(total, COUNTED) // PAGE_SIZE))
    # past what is counted: "page 1 of 100+", and a page is there when it has ideas
    last: int | str = pages if exact else f"{max(pages, page)}+"
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
    if page > pages and (exact or not rows):
        if not exact:  # past the counted ones and empty: count them all (rarely asked)
            _, total = await list_ideas(ctx.session, group.id, order, ctx.person_id, 0, 0)
            last = -(-total // PAGE_SIZE)
        raise UserError(N_("There is no page {page}; the list has {pages}."), page=page, pages=last)
    parts: list[Part] = ctx.fmt(
        N_("Ideas of {group} ({order}), page {page} of {pages}:"),
        group=Bold(text=group.slug),
        order=ctx._(ORDER_LABELS[order]),
        page=page,
        pages=last,
    )
    for item, tally in rows:
        parts.append(Text(text="\n"))
        parts.extend(idea_line(ctx.t, item, tally))
    buttons = []
    if page < pages or (not exact and len(rows) == PAGE_SIZE):
        buttons.append(Button(label=ctx._("More"), action="i.list", args=(order, str(page + 1))))
    ctx.reply(*parts, buttons=buttons)


async def merge_votes(session: AsyncSession, from_id: int, into_id: int) -> None:
    """Joined accounts count once: a second vote on the same idea is dropped, cards redrawn."""
    changed = await merge_persons(session, from_id, into_id)
    bridge = session.info.get("bridge")
    if bridge is None:
        return
    for idea_id in changed:
        item = await session.get(Idea, idea_id)
        if item is not None:
            await refresh_idea(session, bridge, item)


async def idea_feed(session: AsyncSession, bridge: Bridge, group: Group) -> list[FeedItem]:
    """The feed entries of a public group (and of the showcase)."""
    from bridge.cards.ideas import feed_items

    rows = await feed_ideas(session, group)
    counts = await tallies(session, (i.id for i in rows))
    return feed_items(translator(bridge.default_locale), rows, counts)


# ---- /status and /promote


async def _require_host_of(ctx: Context, item: Idea, group: Group) -> None:
    if not await ctx.is_host_of(group.id):
        raise Denied(
            N_("Only hosts of the group {group} may change {idea}."),
            group=group.slug,
            idea=item.ref,
        )


async def change_status(ctx: Context, ref: str, status: str, reason: str | None) -> None:
    """``/status``: move an idea; its proposer and supporters are told."""
    from bridge.cards.ideas import status_label

    item, group = await find_visible(ctx, ref)
    await _require_host_of(ctx, item, group)
    if item.status == status:
        raise UserError(
            N_("{idea} has the status {status} already; nothing changed."),
            idea=item.ref,
            status=status_label(ctx.t, status),
        )
    reason = check_length((reason or "").strip(), REASON_MAX, N_("The reason"))
    before = item.status
    item.status = status
    item.status_reason = reason or None
    item.updated_at = ctx.now
    project: Group | None = None
    if status == "project":
        project = await _project_group(ctx, item)
    await ctx.session.flush()
    await ctx.audit("idea.status", item.ref, before=before, after=status, reason=item.status_reason)
    told = await _notify(ctx, item, group, project)
    await refresh_idea(ctx.session, ctx.bridge, item)
    parts: list[Part] = ctx.fmt(
        N_("{idea} now has the status {status}."),
        idea=Code(text=item.ref),
        status=Bold(text=status_label(ctx.t, status)),
    )
    parts.append(
        Text(
            text=" "
            + ctx.ngettext(
                "I told {n} person about it.", "I told {n} people about it.", told
            ).format(n=told)
        )
    )
    if project is not None:
        parts.append(Text(text="\n"))
        parts.extend(
            ctx.fmt(
                N_(
                    "The project group {group} is ready, with the proposer and supporters as "
                    "members. An admin can link a channel to it with {command}."
                ),
                group=Bold(text=project.slug),
                command=Code(text=f"/link {project.slug}"),
            )
        )
    ctx.reply(*parts)


async def _project_group(ctx: Context, item: Idea) -> Group:
    """The idea's project group (created once, closed), with proposer and supporters in it."""
    from bridge.services import roles

    group = await ctx.session.get(Group, item.project_group_id) if item.project_group_id else None
    if group is None:
        taken = await taken_slugs(ctx.session, ctx.community.id)
        slug = project_slug(item.title, item.number, taken)
        group = await groups_svc.create_group(
            ctx.session, ctx.community.id, slug, "closed", ctx.now, ctx.person_id
        )
        group.name = item.title
        item.project_group_id = group.id
        await ctx.session.flush()
        await ctx.audit("group.create", group.slug, visibility="closed", project_of=item.ref)
    members = {item.proposer_id, *await supporters(ctx.session, item.id)}
    for person_id in sorted(members):
        await roles.grant(ctx.session, person_id, "member", group.id, ctx.person_id, ctx.now)
    return group


async def _notify(ctx: Context, item: Idea, group: Group, project: Group | None) -> int:
    """Tell the proposer and every supporter once (not the host who made the change), in
    a few statements however many they are."""
    from bridge.cards.ideas import status_mention, status_notice

    recipients = {item.proposer_id, *await supporters(ctx.session, item.id)}
    recipients.discard(ctx.person_id)
    channels = await groups_svc.linked_channels(ctx.session, group.id)
    here = translator(ctx.bridge.default_locale)
    await ctx.bridge.outbox.notify_all(
        ctx.session,
        sorted(recipients),
        lambda person_id, locale: status_notice(
            translator(locale), item, person_id == item.proposer_id, project
        ),
        fallback_channel=channels[0].key if channels else None,
        fallback_message=lambda who: status_mention(here, item, who),
        kind="status",
    )
    return len(recipients)


async def promote(ctx: Context, ref: str) -> None:
    """``/promote``: show an idea in the community's showcase group."""
    item, group = await find_visible(ctx, ref)
    await _require_host_of(ctx, item, group)
    if group.visibility == "closed":
        raise UserError(
            N_("{idea} belongs to the closed group {group}; its ideas never leave that group."),
            idea=item.ref,
            group=group.slug,
        )
    showcase = await groups_svc.showcase_group(ctx.session, ctx.community.id)
    if showcase is None:
        raise UserError(
            N_(
                "There is no showcase group yet. An admin can make one with "
                "/group set <name> showcase."
            )
        )
    if showcase.id == group.id:
        raise UserError(
            N_("{idea} is an idea of the showcase group {group} already."),
            idea=item.ref,
            group=showcase.slug,
        )
    if item.showcase_group_id == showcase.id:
        raise UserError(
            N_("{idea} is in the showcase {group} already."), idea=item.ref, group=showcase.slug
        )
    item.showcase_group_id = showcase.id
    item.promoted_at = ctx.now
    item.updated_at = ctx.now
    await ctx.session.flush()
    keys = await ctx.bridge.outbox.post_to_group(
        ctx.session, showcase.id, ref_key=showcase_ref(item)
    )
    await ctx.audit("idea.promote", item.ref, showcase=showcase.slug)
    parts = ctx.fmt(
        N_("{idea} is now shown in the showcase {group}."),
        idea=Code(text=item.ref),
        group=Bold(text=showcase.slug),
    )
    if not keys:
        parts.append(Text(text=" "))
        parts.extend(
            ctx.fmt(
                N_("It has no linked channel yet; an admin can add one with {command}."),
                command=Code(text=f"/link {showcase.slug}"),
            )
        )
    ctx.reply(*parts)


# ------------------------------------------------------------------ figures for /stats


def contributions(community_id: int, group_id: int | None, since: datetime) -> dict[str, Any]:
    """Since ``since``: one row (``person_id``) per idea proposed, vote cast, comment
    written; queries for ``stats`` to count in SQL."""
    scope = [Idea.community_id == community_id]
    if group_id is not None:
        scope.append(Idea.group_id == group_id)
    return {
        "ideas": select(Idea.proposer_id.label("person_id")).where(
            *scope, Idea.created_at >= since
        ),
        "votes": select(IdeaVote.person_id.label("person_id"))
        .join(Idea, Idea.id == IdeaVote.idea_id)
        .where(*scope, IdeaVote.updated_at >= since),
        "comments": select(IdeaComment.person_id.label("person_id"))
        .join(Idea, Idea.id == IdeaComment.idea_id)
        .where(*scope, IdeaComment.created_at >= since),
    }


async def funnel(session: AsyncSession, community_id: int, group_id: int | None) -> dict[str, int]:
    """How many ideas stand at each status now, in lifecycle order."""
    scope = [Idea.community_id == community_id]
    if group_id is not None:
        scope.append(Idea.group_id == group_id)
    counts = dict(
        (
            await session.execute(
                select(Idea.status, func.count()).where(*scope).group_by(Idea.status)
            )
        ).all()
    )
    return {status: int(counts.get(status, 0)) for status in IDEA_STATUSES}


# ---- one idea on its own: show, edit, withdraw; search; export; comments edited


IDEA_REF = re.compile(r"^(?:[Ii]-)?\d{1,9}$")


async def show(ctx: Context, ref: str) -> None:
    """``/idea I-3``: the card and its comments, for the person alone."""
    from bridge.cards.ideas import card, comment_lines
    from bridge.services import identity

    item, _group = await find_visible(ctx, ref)
    drawn = await card(ctx.session, item, ctx.locale)
    assert drawn is not None
    comments = await comments_of(ctx.session, item.id)
    names = await identity.display_names(ctx.session, sorted({c.person_id for c in comments}))
    parts: list[Part] = [*drawn.parts, *comment_lines(ctx.t, comments, names)]
    ctx.reply(parts, buttons=drawn.buttons)


async def _may_change(ctx: Context, item: Idea, group: Group) -> bool:
    """The proposer while the idea is new; hosts of its group always. True for a host."""
    if await ctx.is_host_of(group.id):
        return True
    if item.proposer_id != ctx.person_id:
        raise Denied(
            N_("Only its proposer or the hosts of {group} may change {idea}."),
            group=group.slug,
            idea=item.ref,
        )
    if item.status != "new":
        raise UserError(
            N_("{idea} is being looked at already ({status}); ask a host to change it."),
            idea=item.ref,
            status=_label(ctx, item.status),
        )
    return False


def _label(ctx: Context, status: str) -> str:
    from bridge.cards.ideas import status_label

    return status_label(ctx.t, status)


async def edit(ctx: Context, ref: str, text: str) -> None:
    """``/idea edit I-3 <title> [| description]``: every card follows."""
    if not IDEA_REF.match(ref):  # "/idea edit the wiki": an idea titled so
        await propose(ctx, f"edit {ref} {text}".strip())
        return
    item, group = await find_visible(ctx, ref)
    host = await _may_change(ctx, item, group)
    title, _, description = text.partition("|")
    title, description = " ".join(title.split()), description.strip()
    if not title:
        raise UsageError(N_("<{name}> is missing."), name="title")
    check_text(title, description)
    before = item.title
    item.title, item.description, item.updated_at = title, description, ctx.now
    await ctx.session.flush()
    await index.reindex(ctx.session, "idea", item.id, title, description)
    await ctx.audit("idea.edit", item.ref, before=before, by_host=host)
    await refresh_idea(ctx.session, ctx.bridge, item)
    ctx.reply(*ctx.fmt(N_("{idea} is changed; its cards follow."), idea=Code(text=item.ref)))


async def withdraw(ctx: Context, ref: str, reason: str | None) -> None:
    """``/idea withdraw I-3 [reason]``: out of the lists, voting closed, supporters told."""
    item, group = await find_visible(ctx, ref)
    if item.status == WITHDRAWN:
        raise UserError(N_("{idea} is withdrawn already."), idea=item.ref)
    host = await _may_change(ctx, item, group)
    reason = check_length((reason or "").strip(), REASON_MAX, N_("The reason"))
    before = item.status
    item.status, item.status_reason, item.updated_at = WITHDRAWN, reason or None, ctx.now
    await ctx.session.flush()
    await ctx.audit("idea.withdraw", item.ref, before=before, reason=reason, by_host=host)
    told = await _notify(ctx, item, group, None)
    await refresh_idea(ctx.session, ctx.bridge, item)
    ctx.reply(
        *ctx.fmt(N_("{idea} is withdrawn."), idea=Code(text=item.ref)),
        " "
        + ctx.ngettext("I told {n} person about it.", "I told {n} people about it.", told).format(
            n=told
        ),
    )


SEARCH_LIMIT = 10


async def search(ctx: Context, words: str) -> None:
    """``/ideas search <words>``: ideas whose title or description has every word, in the
    groups whose content may be shown here."""
    from bridge.cards.ideas import idea_line

    terms = [w for w in words.split() if len(w) > 1][:8]
    if not terms:
        raise UsageError(N_("<{name}> is missing."), name="words")
    shown = await ctx.showable_group_ids()
    stmt = select(Idea).where(
        Idea.community_id == ctx.community.id,
        Idea.group_id.in_(shown),
        Idea.status != WITHDRAWN,
        *(
            or_(
                Idea.title.ilike(like_pattern(t), escape="\\"),
                Idea.description.ilike(like_pattern(t), escape="\\"),
            )
            for t in terms
        ),
    )
    found = list(
        (await ctx.session.execute(stmt.order_by(Idea.number.desc()).limit(SEARCH_LIMIT + 1)))
        .scalars()
        .all()
    )
    if not found:
        ctx.reply(*ctx.fmt(N_("No idea here matches {words}."), words=" ".join(terms)))
        return
    counts = await tallies(ctx.session, (i.id for i in found[:SEARCH_LIMIT]))
    parts: list[Part] = ctx.fmt(N_("Ideas matching {words}:"), words=" ".join(terms))
    for item in found[:SEARCH_LIMIT]:
        parts.append(Text(text="\n"))
        parts.extend(idea_line(ctx.t, item, counts[item.id]))
    if len(found) > SEARCH_LIMIT:
        parts.append(Text(text="\n" + ctx._("… and more; add words to narrow it down.")))
    ctx.reply(*parts)


async def export(ctx: Context) -> None:
    """``/ideas export`` (hosts): the group's ideas as a CSV file, for the host alone."""
    import csv
    import io

    from bridge.cards.ideas import status_label
    from bridge.services import identity

    group = ctx.require_group()
    if not await ctx.is_host_of(group.id):
        raise Denied(N_("Only hosts of the group {group} may export its ideas."), group=group.slug)
    rows = list(
        (
            await ctx.session.execute(
                select(Idea).where(Idea.group_id == group.id).order_by(Idea.number)
            )
        )
        .scalars()
        .all()
    )
    counts = await tallies(ctx.session, (i.id for i in rows))
    names = await identity.display_names(ctx.session, sorted({i.proposer_id for i in rows}))
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(EXPORT_COLUMNS)
    for item in rows:
        tally = counts[item.id]
        out.writerow(
            [
                item.ref,
                csv_cell(item.title),
                csv_cell(item.description),
                status_label(ctx.t, item.status),
                csv_cell(item.status_reason or ""),
                csv_cell(names.get(item.proposer_id, "")),
                tally.up,
                tally.down,
                item.created_at.isoformat(timespec="seconds"),
                item.updated_at.isoformat(timespec="seconds"),
            ]
        )
    await ctx.audit("ideas.export", group.slug, count=len(rows))
    ctx.reply(
        *ctx.fmt(N_("The ideas of {group} as CSV."), group=Bold(text=group.slug)),
        file=FileAttachment(
            name=f"ideas-{group.slug}.csv", content=buf.getvalue().encode(), mime="text/csv"
        ),
        private=True,
    )


EXPORT_COLUMNS = (
    "idea",
    "title",
    "description",
    "status",
    "reason",
    "proposer",
    "supporters",
    "against",
    "created",
    "updated",
)


async def _comment(ctx: Context, ref: str, number: int) -> tuple[Idea, Group, IdeaComment]:
    item, group = await find_visible(ctx, ref)
    found = await comments_of(ctx.session, item.id)
    if not 1 <= number <= len(found) or found[number - 1].deleted_at is not None:
        raise NotFound(N_("{idea} has no comment {n}."), idea=item.ref, n=number)
    comment = found[number - 1]
    if comment.person_id != ctx.person_id and not await ctx.is_host_of(group.id):
        raise Denied(N_("Only its author or a host may change comment {n}."), n=number)
    return item, group, comment


async def comment_edit(ctx: Context, ref: str, number: int, text: str) -> None:
    """``/comment edit I-3 2 <text>``: the comment under every card follows."""
    item, _group, comment = await _comment(ctx, ref, number)
    comment.text = check_length(text.strip(), COMMENT_MAX, N_("The comment"))
    comment.edited_at = ctx.now
    await ctx.session.flush()
    await ctx.bridge.outbox.refresh(ctx.session, comment_ref(comment.id), delay=timedelta(0))
    ctx.reply(*ctx.fmt(N_("Comment {n} on {idea} is changed."), n=number, idea=item.ref))


async def comment_delete(ctx: Context, ref: str, number: int) -> None:
    """``/comment delete I-3 2``: its copies say it was deleted; the numbers stay."""
    item, _group, comment = await _comment(ctx, ref, number)
    comment.deleted_at = ctx.now
    await ctx.session.flush()
    if comment.person_id != ctx.person_id:
        await ctx.audit("comment.delete", f"{item.ref}#{number}")
    await ctx.bridge.outbox.refresh(ctx.session, comment_ref(comment.id), delay=timedelta(0))
    ctx.reply(*ctx.fmt(N_("Comment {n} on {idea} is deleted."), n=number, idea=item.ref))


# ---- a group's ideas, for /group delete


async def count_in_group(session: AsyncSession, group_id: int) -> int:
    return await db_count(session, Idea, Idea.group_id == group_id)


async def delete_in_group(session: AsyncSession, group_id: int) -> None:
    """Delete the group's ideas with their votes, comments and drafts; ideas of other groups
    lose it as their showcase or project group."""
    ids = select(Idea.id).where(Idea.group_id == group_id).scalar_subquery()
    await index.forget(session, "idea", ids)
    await session.execute(delete(IdeaVote).where(IdeaVote.idea_id.in_(ids)))
    await session.execute(delete(IdeaComment).where(IdeaComment.idea_id.in_(ids)))
    await session.execute(
        delete(IdeaDraft).where(or_(IdeaDraft.group_id == group_id, IdeaDraft.idea_id.in_(ids)))
    )
    await session.execute(
        update(Idea).where(Idea.showcase_group_id == group_id).values(showcase_group_id=None)
    )
    await session.execute(
        update(Idea).where(Idea.project_group_id == group_id).values(project_group_id=None)
    )
    await session.execute(delete(Idea).where(Idea.group_id == group_id))


async def group_closed(session: AsyncSession, bridge: Bridge, group_id: int) -> None:
    """A group became closed: its ideas leave the showcase now (their showcase cards say
    so), not at their next change."""
    promoted = (
        await session.execute(
            select(Idea.id).where(Idea.group_id == group_id, Idea.showcase_group_id.is_not(None))
        )
    ).scalars()
    for idea_id in promoted:
        await bridge.outbox.refresh(session, f"showcase:{idea_id}", delay=timedelta(0))
