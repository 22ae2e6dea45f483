"""Ideas: numbering, visibility, one vote per person, similar-idea ranking, lifecycle, feeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import similarity
from bridge.db import affected, insert_ignore
from bridge.errors import NotFound, UserError
from bridge.i18n import N_
from bridge.models import Account, Group
from bridge.models.ideas import IDEA_STATUSES, Idea, IdeaComment, IdeaDraft, IdeaVote
from bridge.services import counters
from bridge.services import groups as groups_svc

if TYPE_CHECKING:
    from bridge.core import Bridge

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
    "person_locale",
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
VOTING_CLOSED = ("done", "rejected")
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
) -> tuple[list[tuple[Idea, Tally]], int]:
    """One page of a group's ideas (``new``, ``top``, ``mine``, ``shortlisted``) and the total."""
    score = (
        select(IdeaVote.idea_id, func.sum(IdeaVote.value).label("score"))
        .group_by(IdeaVote.idea_id)
        .subquery()
    )
    where = [Idea.group_id == group_id]
    if order == "mine":
        where.append(Idea.proposer_id == person_id)
    elif order == "shortlisted":
        where.append(Idea.status == "shortlisted")
    total = int(
        (await session.execute(select(func.count()).select_from(Idea).where(*where))).scalar_one()
    )
    stmt = select(Idea).outerjoin(score, score.c.idea_id == Idea.id).where(*where)
    if order in ("top", "shortlisted"):
        stmt = stmt.order_by(func.coalesce(score.c.score, 0).desc(), Idea.number.desc())
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
    rows = (
        await session.execute(
            select(Idea.id, Idea.title, Idea.description)
            .join(Group, Group.id == Idea.group_id)
            .where(
                Idea.community_id == community_id,
                (Group.visibility != "closed") | (Group.id == here_group_id),
            )
        )
    ).all()
    ranked = rank_similar(title, description, [(r[0], r[1], r[2]) for r in rows])
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
    if len(title) > TITLE_MAX:
        raise UserError(
            N_(
                "The title is too long ({length} characters, at most {limit}). Put the details "
                "after a | as description."
            ),
            length=len(title),
            limit=TITLE_MAX,
        )
    if len(description) > DESCRIPTION_MAX:
        raise UserError(
            N_("The description is too long ({length} characters, at most {limit})."),
            length=len(description),
            limit=DESCRIPTION_MAX,
        )


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
        result = await session.execute(
            delete(IdeaVote).where(IdeaVote.idea_id == idea.id, IdeaVote.person_id == person_id)
        )
        return "withdrawn" if affected(result) else "none"
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
        return "added"
    changed = await session.execute(
        update(IdeaVote)
        .where(
            IdeaVote.idea_id == idea.id, IdeaVote.person_id == person_id, IdeaVote.value != value
        )
        .values(value=value, updated_at=now)
    )
    return "changed" if affected(changed) else "same"


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


async def person_locale(session: AsyncSession, bridge: Bridge, person_id: int) -> str:
    """The language to write to a person in: their most recently used account's locale."""
    locale = (
        await session.execute(
            select(Account.locale)
            .where(Account.person_id == person_id)
            .order_by(Account.last_seen_at.desc(), Account.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return bridge.locale_for(locale)


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
        await session.execute(
            delete(IdeaVote).where(IdeaVote.person_id == from_id, IdeaVote.idea_id.in_(both))
        )
    await session.execute(
        update(IdeaVote).where(IdeaVote.person_id == from_id).values(person_id=into_id)
    )
    return sorted(both)
