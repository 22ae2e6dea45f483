"""Questions to the hosts: similar answered ones first, the host desk, claims, answers relayed
to where the asker asked, and the stored SLA deadline with its reminders and escalation."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import search as index
from bridge import similarity
from bridge.db import count as db_count
from bridge.db import like_pattern
from bridge.errors import Denied, NotFound, UsageError, UserError, check_length
from bridge.i18n import N_, Translator, translator
from bridge.messages import (
    Bold,
    Button,
    ChannelRef,
    Code,
    FormRequest,
    Mention,
    Message,
    Part,
    Text,
    fmt,
)
from bridge.models import Channel, ChannelLink, Group
from bridge.models.questions import Question, QuestionAnswer, QuestionDraft
from bridge.models.search import SearchTerm
from bridge.sanitize import is_number
from bridge.services import counters, identity, roles
from bridge.services import groups as groups_svc

if TYPE_CHECKING:
    from bridge.context import ActionContext, Context
    from bridge.core import Bridge

__all__ = [
    "CARD",
    "DESK",
    "SLA_KIND",
    "Actor",
    "accept",
    "add_answer",
    "by_id",
    "claim",
    "close",
    "create",
    "find",
    "group_slug",
    "name_of",
    "open_for_host",
    "release",
    "short",
    "similar",
    "sla_due",
]

SLA_KIND = "question.sla"
CARD = "question"
"""Ref kind of the card shown in the group's channels (public questions only)."""
DESK = "qdesk"
"""Ref kind of the card on the host desk (every question)."""
MAX_QUESTION = 2000
MAX_ANSWER = 3000
DRAFT_TTL = timedelta(days=1)
ESCALATE_AFTER = 2
"""Reminders the hosts get before the admins are told too."""
SIMILAR_THRESHOLD = 0.3
SIMILAR_LIMIT = 3


@dataclass(frozen=True)
class Actor:
    """Who acts and from where (what they may see depends on the channel's group)."""

    person_id: int
    account_id: int
    is_admin: bool
    here_group_id: int | None
    in_dm: bool = False


def card_ref(q: Question) -> str:
    return f"{CARD}:{q.id}"


def desk_ref(q: Question) -> str:
    return f"{DESK}:{q.id}"


def _f(t: Translator, msgid: str, **values: Any) -> list[Part]:
    return fmt(t.gettext(msgid), **values)


def _message(lines: list[list[Part]], buttons: list[Button] | None = None) -> Message:
    parts: list[Part] = []
    for i, line in enumerate(lines):
        if i:
            parts.append(Text(text="\n"))
        parts.extend(line)
    return Message(parts=tuple(parts), buttons=tuple(buttons or ()))


def short(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------- lookups


async def find(
    session: AsyncSession, community_id: int, ref_text: str, *, lock: bool = False
) -> Question:
    """The question ``Q-3`` / ``q-3`` / ``3``; NotFound when there is none."""
    number = counters.parse_ref("Q", ref_text)
    stmt = select(Question).where(Question.community_id == community_id, Question.number == number)
    if lock:
        stmt = stmt.with_for_update()
    q = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if q is None:
        raise NotFound(N_("There is no question {ref}."), ref=f"Q-{number}")
    return q


async def by_id(session: AsyncSession, question_id: int, *, lock: bool = False) -> Question | None:
    stmt = select(Question).where(Question.id == question_id)
    if lock:
        stmt = stmt.with_for_update()
    return (
        await session.execute(stmt.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def is_host_for(session: AsyncSession, bridge: Bridge, person_id: int, group_id: int) -> bool:
    """A host of the question's group or of the community (admins included)."""
    return await roles.is_host(session, person_id, group_id, bridge.config.community.admins)


async def _visible_group_ids(session: AsyncSession, community_id: int, actor: Actor) -> set[int]:
    return await groups_svc.showable_group_ids(
        session, community_id, actor.person_id, actor.here_group_id, actor.in_dm, actor.is_admin
    )


async def can_see(session: AsyncSession, bridge: Bridge, actor: Actor, q: Question) -> bool:
    """The asker and the hosts see a question; others only public ones of visible groups."""
    if q.asker_id == actor.person_id:
        return True
    if await is_host_for(session, bridge, actor.person_id, q.group_id):
        return True
    if q.private:
        return False
    return q.group_id in await _visible_group_ids(session, q.community_id, actor)


async def find_visible(
    session: AsyncSession,
    bridge: Bridge,
    community_id: int,
    actor: Actor,
    ref_text: str,
    *,
    lock: bool = False,
) -> Question:
    q = await find(session, community_id, ref_text, lock=lock)
    if not await can_see(session, bridge, actor, q):
        raise NotFound(N_("There is no question {ref}."), ref=q.ref)
    return q


async def person_locale(session: AsyncSession, bridge: Bridge, person_id: int) -> str:
    account = await identity.last_account(session, person_id)
    return bridge.locale_for(account.locale if account else None)


async def where_label(session: AsyncSession, channel_key: str) -> str:
    """``#general (slack)``: a channel as people know it."""
    ref = ChannelRef.from_key(channel_key)
    channel = await groups_svc.find_channel(session, ref)
    name = channel.name if channel is not None and channel.name else ref.chat
    return f"{name} ({ref.platform})"


async def name_of(session: AsyncSession, person_id: int | None) -> str:
    """A person's display name (for cards: a name, not a mention that pings them)."""
    if person_id is None:
        return "?"
    return (await identity.person_mention(session, person_id)).text


async def group_slug(session: AsyncSession, group_id: int) -> str:
    group = await session.get(Group, group_id)
    return group.slug if group is not None else "?"


async def desk_channel_keys(session: AsyncSession, community_id: int) -> list[str]:
    """The host desk: active channels linked to groups flagged ``hostdesk``."""
    channels = (
        (
            await session.execute(
                select(Channel)
                .join(ChannelLink, ChannelLink.channel_id == Channel.id)
                .join(Group, Group.id == ChannelLink.group_id)
                .where(
                    Group.community_id == community_id,
                    Group.hostdesk.is_(True),
                    ChannelLink.active.is_(True),
                )
                .order_by(Channel.id)
            )
        )
        .scalars()
        .all()
    )
    return [c.key for c in channels]


# ---------------------------------------------------------------------------- similar ones


async def best_answer(session: AsyncSession, q: Question) -> QuestionAnswer | None:
    """The accepted answer, else the latest host answer, else the latest answer."""
    if q.accepted_answer_id is not None:
        accepted = await session.get(QuestionAnswer, q.accepted_answer_id)
        if accepted is not None:
            return accepted
    answers = (
        (
            await session.execute(
                select(QuestionAnswer)
                .where(QuestionAnswer.question_id == q.id)
                .order_by(QuestionAnswer.is_host.desc(), QuestionAnswer.number.desc())
            )
        )
        .scalars()
        .all()
    )
    return answers[0] if answers else None


async def similar(
    session: AsyncSession,
    community_id: int,
    actor: Actor,
    text: str,
    limit: int = SIMILAR_LIMIT,
) -> list[tuple[Question, QuestionAnswer | None]]:
    """Up to ``limit`` answered questions that share words with ``text``, best first.

    Only what the person may see: never someone else's private question, never a question
    of a closed group they are not part of.
    """
    query = similarity.vector((text, 1))
    if not query:
        return []
    visible = await _visible_group_ids(session, community_id, actor)
    if not visible:
        return []

    def answered_here(lookup: Any) -> Any:  # answered questions the person may see
        return lookup.join(Question, Question.id == SearchTerm.item_id).where(
            Question.community_id == community_id,
            Question.status == "answered",
            Question.group_id.in_(visible),
            or_(Question.private.is_(False), Question.asker_id == actor.person_id),
        )

    found_terms = index.hits("question", index.terms_of(text), index.PER_TERM, answered_here)
    rows = (
        (
            await session.execute(
                select(Question)
                .join(found_terms, found_terms.c.item_id == Question.id)
                .order_by(found_terms.c.hits.desc(), Question.id.desc())
                .limit(index.CANDIDATES)
            )
        )
        .scalars()
        .all()
    )
    by_id = {q.id: q for q in rows}
    found = await asyncio.to_thread(  # CPU work: off the loop
        similarity.rank_texts,
        ((text, 1),),
        [(q.id, ((q.text, 1),)) for q in rows],
        limit,
        SIMILAR_THRESHOLD,
    )
    ranked = [(by_id[m.key], m.score) for m in found]
    return [(q, await best_answer(session, q)) for q, _score in ranked[:limit]]


async def make_draft(
    session: AsyncSession,
    community_id: int,
    actor: Actor,
    group_id: int,
    origin: str,
    private: bool,
    text: str,
    suggested: list[Question],
    now: datetime,
) -> QuestionDraft:
    draft = QuestionDraft(
        community_id=community_id,
        person_id=actor.person_id,
        account_id=actor.account_id,
        group_id=group_id,
        origin_channel_key=origin,
        private=private,
        text=text,
        suggested=",".join(q.ref for q in suggested)[:200],
        created_at=now,
    )
    session.add(draft)
    await session.flush()
    return draft


async def use_draft(
    session: AsyncSession, draft_id: int, person_id: int, outcome: str, now: datetime
) -> QuestionDraft:
    """Take a draft once; a second press is told what happened the first time."""
    draft = await session.get(QuestionDraft, draft_id)
    if draft is None or draft.person_id != person_id:
        raise Denied(N_("Only the person who asked can use these buttons."))
    if draft.used_at is None and draft.created_at + DRAFT_TTL < now:
        raise UserError(N_("These suggestions have expired. Please ask again with /ask."))
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(QuestionDraft)
        .where(QuestionDraft.id == draft_id, QuestionDraft.used_at.is_(None))
        .values(used_at=now, outcome=outcome)
    )
    await session.refresh(draft)
    if result.rowcount != 1:
        if draft.question_id is not None:
            q = await session.get(Question, draft.question_id)
            raise UserError(N_("You asked this already as {ref}."), ref=q.ref if q else "?")
        raise UserError(
            N_(
                "You said a suggestion helped, so I did not pass this on. To ask "
                "anyway, use /ask again."
            )
        )
    return draft


# ---------------------------------------------------------------------------- asking


async def create(
    session: AsyncSession,
    bridge: Bridge,
    community_id: int,
    *,
    group_id: int,
    asker_id: int,
    asker_account_id: int,
    origin: str,
    private: bool,
    text: str,
    now: datetime,
) -> Question:
    """Record ``Q-n``, show it (public: the group's channels), tell the hosts, start the SLA."""
    number = await counters.next_number(session, community_id, "question")
    q = Question(
        community_id=community_id,
        number=number,
        group_id=group_id,
        asker_id=asker_id,
        asker_account_id=asker_account_id,
        origin_channel_key=origin,
        private=private,
        text=text,
        status="open",
        asked_at=now,
        reminders=0,
    )
    session.add(q)
    await session.flush()
    await index.reindex(session, "question", q.id, text)
    desks = await desk_channel_keys(session, community_id)
    if not private:
        await bridge.outbox.post_to_group(
            session, group_id, ref_key=card_ref(q), exclude=set(desks)
        )
    await _tell_hosts(session, bridge, q, desks, lambda t: None, tracked=True)
    await bridge.deadlines.schedule(
        session, SLA_KIND, str(q.id), now + bridge.config.questions.answer_within
    )
    return q


async def _tell_hosts(
    session: AsyncSession,
    bridge: Bridge,
    q: Question,
    desks: list[str],
    build: Callable[[Translator], Message | None],
    *,
    tracked: bool = False,
) -> str:
    """Post to the host desk, else DM the group's hosts, else the admins.

    ``tracked`` posts the desk card (``qdesk:<id>``, kept up to date) instead of ``build``.
    Returns who was reached: ``desk``, ``hosts`` or ``admins``.
    """
    if desks:
        for key in desks:
            if tracked:
                await bridge.outbox.post(session, key, ref_key=desk_ref(q))
            else:
                message = build(translator(bridge.default_locale))
                assert message is not None
                await bridge.outbox.post(session, key, message)
        return "desk"
    hosts = [p for p in await roles.host_person_ids(session, q.group_id) if p != q.asker_id]
    if hosts:
        for person_id in hosts:
            t = translator(await person_locale(session, bridge, person_id))
            message = await _cards().desk_message(session, bridge, q, t) if tracked else build(t)
            assert message is not None
            await bridge.outbox.notify(session, person_id, message, kind="reminder")
        return "hosts"
    t = translator(bridge.default_locale)
    message = await _cards().desk_message(session, bridge, q, t) if tracked else build(t)
    assert message is not None
    await bridge.notify_admins(session, message)
    return "admins"


# ---------------------------------------------------------------------------- cards


async def _refresh(bridge: Bridge, session: AsyncSession, q: Question) -> None:
    if not q.private:
        await bridge.outbox.refresh(session, card_ref(q))
    await bridge.outbox.refresh(session, desk_ref(q))


# ---------------------------------------------------------------------------- claims


async def claim(
    session: AsyncSession, bridge: Bridge, actor: Actor, q: Question, now: datetime
) -> None:
    """First claimer wins (a conditional UPDATE); others learn who has it."""
    if not await is_host_for(session, bridge, actor.person_id, q.group_id):
        raise Denied(N_("Only hosts can claim {ref}."), ref=q.ref)
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(Question)
        .where(Question.id == q.id, Question.status == "open", Question.claimed_by_id.is_(None))
        .values(claimed_by_id=actor.person_id, claimed_at=now)
    )
    fresh = await by_id(session, q.id)
    assert fresh is not None
    if result.rowcount == 1:
        await _refresh(bridge, session, fresh)
        return
    if fresh.status != "open":
        raise UserError(
            N_("{ref} is answered or closed already; there is nothing to claim."), ref=q.ref
        )
    if fresh.claimed_by_id == actor.person_id:
        raise UserError(N_("You have claimed {ref} already."), ref=q.ref)
    raise UserError(
        N_("{who} has claimed {ref} already."),
        who=await name_of(session, fresh.claimed_by_id),
        ref=q.ref,
    )


async def release(session: AsyncSession, bridge: Bridge, actor: Actor, q: Question) -> None:
    if q.claimed_by_id is None:
        raise UserError(N_("Nobody has claimed {ref}."), ref=q.ref)
    if q.claimed_by_id != actor.person_id and not actor.is_admin:
        raise Denied(
            N_("{who} has claimed {ref}; only they or an admin can release it."),
            who=await name_of(session, q.claimed_by_id),
            ref=q.ref,
        )
    q.claimed_by_id = None
    q.claimed_at = None
    await session.flush()
    await _refresh(bridge, session, q)


async def close(
    session: AsyncSession, bridge: Bridge, actor: Actor, q: Question, now: datetime
) -> None:
    """No more answers, no more reminders; an unanswered asker is told."""
    if not await is_host_for(session, bridge, actor.person_id, q.group_id):
        raise Denied(N_("Only hosts can close {ref}."), ref=q.ref)
    if q.status == "closed":
        raise UserError(N_("{ref} is closed already."), ref=q.ref)
    was_open = q.status == "open"
    q.status = "closed"
    q.closed_at = now
    await session.flush()
    await bridge.deadlines.cancel(session, SLA_KIND, str(q.id))
    await _refresh(bridge, session, q)
    if was_open and q.asker_id != actor.person_id:
        t = translator(await person_locale(session, bridge, q.asker_id))
        await bridge.outbox.notify(
            session,
            q.asker_id,
            _message(
                [
                    _f(
                        t,
                        N_("The hosts closed your question {ref} without an answer."),
                        ref=Bold(text=q.ref),
                    ),
                    [Text(text=short(q.text, 200))],
                ]
            ),
        )


# ---------------------------------------------------------------------------- answers

ACCEPT = re.compile(r"accept\s+#?(\d{1,6})", re.IGNORECASE)


@dataclass
class Answered:
    question: Question
    answer: QuestionAnswer
    where: str
    """Where the asker got it: a channel label, or empty for a direct message."""


async def add_answer(
    session: AsyncSession, bridge: Bridge, actor: Actor, q: Question, text: str, now: datetime
) -> Answered:
    """Record an answer and relay it to the asker where they asked (a DM when private).

    A host's answer marks the question answered and stops the SLA; a member's answer waits
    for the asker to accept it.
    """
    text = text.strip()
    if not text:
        raise UserError(N_("Your answer is empty."))
    check_length(text, MAX_ANSWER, N_("The answer"))
    if q.status == "closed":
        raise UserError(N_("{ref} is closed; it takes no more answers."), ref=q.ref)
    host = await is_host_for(session, bridge, actor.person_id, q.group_id)
    if q.private and not host:
        raise Denied(N_("Only hosts can answer the private question {ref}."), ref=q.ref)
    same = (
        await session.execute(
            select(QuestionAnswer.id).where(
                QuestionAnswer.question_id == q.id,
                QuestionAnswer.author_id == actor.person_id,
                QuestionAnswer.text == text,
            )
        )
    ).first()
    if same is not None:
        raise UserError(N_("You gave this answer to {ref} already."), ref=q.ref)
    last = (
        await session.execute(
            select(func.max(QuestionAnswer.number)).where(QuestionAnswer.question_id == q.id)
        )
    ).scalar_one_or_none()
    answer = QuestionAnswer(
        question_id=q.id,
        number=(last or 0) + 1,
        author_id=actor.person_id,
        author_account_id=actor.account_id,
        text=text,
        is_host=host,
        at=now,
    )
    session.add(answer)
    if q.first_response_at is None:
        q.first_response_at = now
    if host and q.status == "open":
        q.status = "answered"
        q.answered_at = now
        q.answered_by_id = actor.person_id
        await bridge.deadlines.cancel(session, SLA_KIND, str(q.id))
    await session.flush()
    where = await _relay(session, bridge, q, answer)
    await _refresh(bridge, session, q)
    return Answered(q, answer, where)


async def _answer_message(
    session: AsyncSession, q: Question, answer: QuestionAnswer, t: Translator
) -> Message:
    asker: Mention = await identity.person_mention(session, q.asker_id)
    author = await name_of(session, answer.author_id)
    values: dict[str, Any] = {
        "asker": asker,
        "author": Bold(text=author),
        "ref": Bold(text=q.ref),
        "n": answer.number,
    }
    if answer.author_id == q.asker_id:
        head = _f(t, N_("{author} added to {ref} (answer {n}):"), **values)
    elif answer.is_host:
        head = _f(t, N_("{asker}, {author} (host) answered your question {ref}:"), **values)
    else:
        head = _f(t, N_("{asker}, {author} answered your question {ref} (answer {n}):"), **values)
    lines: list[list[Part]] = [head, [Text(text=answer.text)]]
    buttons: list[Button] = []
    if not answer.is_host and answer.author_id != q.asker_id:
        lines.append(
            _f(
                t,
                N_("If this answers your question, press Accept or type {command}."),
                command=Code(text=f"/answer {q.ref} accept {answer.number}"),
            )
        )
        buttons.append(
            Button(
                label=t.gettext(N_("Accept")),
                action="q.acc",
                args=(str(answer.id),),
                style="primary",
            )
        )
    return _message(lines, buttons)


async def _relay(session: AsyncSession, bridge: Bridge, q: Question, answer: QuestionAnswer) -> str:
    """Send the answer where the asker asked: that channel (threaded under the card), the
    group's other channels for a public question, a direct message for a private one."""
    if q.private:
        t = translator(await person_locale(session, bridge, q.asker_id))
        asker = await identity.person_mention(session, q.asker_id)
        fallback = _message(
            [
                _f(
                    t,
                    N_(
                        "{asker}, the hosts answered your question {ref}. I sent you the answer "
                        "privately; open a private chat with me to read it."
                    ),
                    asker=asker,
                    ref=Bold(text=q.ref),
                )
            ]
        )
        await bridge.outbox.notify(
            session,
            q.asker_id,
            await _answer_message(session, q, answer, t),
            fallback_channel=q.origin_channel_key,
            fallback_message=fallback,
            kind="answer",
        )
        return ""
    t = translator(bridge.default_locale)
    message = await _answer_message(session, q, answer, t)
    await bridge.outbox.post(session, q.origin_channel_key, message, reply_to_ref=card_ref(q))
    desks = await desk_channel_keys(session, q.community_id)
    await bridge.outbox.post_to_group(
        session,
        q.group_id,
        message,
        reply_to_ref=card_ref(q),
        exclude={q.origin_channel_key, *desks},
    )
    return await where_label(session, q.origin_channel_key)


async def accept(
    session: AsyncSession,
    bridge: Bridge,
    actor: Actor,
    q: Question,
    number: int,
    now: datetime,
) -> QuestionAnswer:
    """The asker marks an answer as the accepted one; an open question becomes answered."""
    if actor.person_id != q.asker_id:
        raise Denied(N_("Only the person who asked {ref} can accept an answer."), ref=q.ref)
    if q.status == "closed":
        raise UserError(N_("{ref} is closed; it takes no more answers."), ref=q.ref)
    answer = (
        await session.execute(
            select(QuestionAnswer).where(
                QuestionAnswer.question_id == q.id, QuestionAnswer.number == number
            )
        )
    ).scalar_one_or_none()
    if answer is None:
        raise NotFound(N_("{ref} has no answer {n}."), ref=q.ref, n=number)
    if q.accepted_answer_id == answer.id:
        raise UserError(N_("You accepted answer {n} to {ref} already."), n=number, ref=q.ref)
    q.accepted_answer_id = answer.id
    if q.status == "open":
        q.status = "answered"
        q.answered_at = now
        q.answered_by_id = answer.author_id
        await bridge.deadlines.cancel(session, SLA_KIND, str(q.id))
    await session.flush()
    await _refresh(bridge, session, q)
    if answer.author_id != actor.person_id:
        t = translator(await person_locale(session, bridge, answer.author_id))
        await bridge.outbox.notify(
            session,
            answer.author_id,
            _message(
                [
                    _f(
                        t,
                        N_("{who} accepted your answer to {ref}. Thank you!"),
                        who=Bold(text=await name_of(session, actor.person_id)),
                        ref=Bold(text=q.ref),
                    )
                ]
            ),
        )
    return answer


async def accept_by_id(
    session: AsyncSession, bridge: Bridge, actor: Actor, answer_id: int, now: datetime
) -> tuple[Question, QuestionAnswer]:
    answer = await session.get(QuestionAnswer, answer_id)
    q = await by_id(session, answer.question_id, lock=True) if answer is not None else None
    if answer is None or q is None:
        raise NotFound(N_("This answer no longer exists."))
    return q, await accept(session, bridge, actor, q, answer.number, now)


# ---------------------------------------------------------------------------- queue


async def open_for_host(
    session: AsyncSession, bridge: Bridge, community_id: int, person_id: int
) -> list[Question]:
    """Open questions of the groups this person hosts, oldest first."""
    rows = (
        (
            await session.execute(
                select(Question)
                .where(Question.community_id == community_id, Question.status == "open")
                .order_by(Question.asked_at, Question.id)
            )
        )
        .scalars()
        .all()
    )
    hosted: dict[int, bool] = {}
    out = []
    for q in rows:
        if q.group_id not in hosted:
            hosted[q.group_id] = await is_host_for(session, bridge, person_id, q.group_id)
        if hosted[q.group_id]:
            out.append(q)
    return out


def time_left(t: Translator, bridge: Bridge, q: Question, now: datetime) -> str:
    """``3h 10m left`` or ``overdue by 1h 5m`` (against the configured ``answer_within``)."""
    left = q.asked_at + bridge.config.questions.answer_within - now
    if left.total_seconds() > 0:
        return t.gettext(N_("{left} left")).format(left=t.span(left))
    return t.gettext(N_("overdue by {late}")).format(late=t.span(-left))


# ---------------------------------------------------------------------------- the SLA


async def sla_due(session: AsyncSession, bridge: Bridge, ref: str) -> None:
    """The SLA (or the next reminder) of a question is due: remind the hosts, maybe the admins.

    Runs in the transaction that claimed the deadline: the reminder rows, the counter and the
    next deadline commit together, once, whichever process fires it.
    """
    if not is_number(ref):
        return
    q = await by_id(session, int(ref), lock=True)
    if q is None or q.status != "open":
        return
    now = bridge.clock.now()
    q.reminders += 1
    n = q.reminders
    waited = now - q.asked_at
    asker = await name_of(session, q.asker_id)
    claimer = await name_of(session, q.claimed_by_id) if q.claimed_by_id is not None else None
    group = await session.get(Group, q.group_id)
    values: dict[str, Any] = {
        "n": n,
        "ref": Bold(text=q.ref),
        "who": Bold(text=asker),
        "group": group.slug if group else "?",
    }

    def claim_line(t: Translator) -> list[Part]:
        if claimer is None:
            return [Text(text=t.gettext(N_("Nobody has claimed it yet.")))]
        return _f(t, N_("Claimed by {who}."), who=Bold(text=claimer))

    def reminder(t: Translator) -> Message:
        return _message(
            [
                _f(
                    t,
                    N_("Reminder {n}: {ref} from {who} has waited {waited} for an answer."),
                    **values,
                    waited=t.span(waited),
                ),
                [Text(text=q.text)],
                claim_line(t),
            ],
            _cards().action_buttons(t, q),
        )

    desks = await desk_channel_keys(session, q.community_id)
    reached = await _tell_hosts(session, bridge, q, desks, reminder)
    if n > ESCALATE_AFTER and q.escalated_at is None:
        q.escalated_at = now
        t = translator(bridge.default_locale)
        lines: list[list[Part]] = [
            _f(
                t,
                N_(
                    "Escalation: {ref} from {who} in group {group} has waited {waited} for an "
                    "answer; the hosts were reminded {count} times."
                ),
                **values,
                waited=t.span(waited),
                count=n - 1,
            ),
            [Text(text=q.text)],
            claim_line(t),
        ]
        if reached == "admins":
            lines.append(
                [
                    Text(
                        text=t.gettext(
                            N_("There are no hosts for this group; grant the role with /role.")
                        )
                    )
                ]
            )
        await bridge.notify_admins(session, _message(lines))
    cfg = bridge.config.questions
    due = q.asked_at + cfg.answer_within + n * cfg.remind_every
    if due <= now:  # the bot was down: remind once now, not once per missed interval
        due = now + cfg.remind_every
    await session.flush()
    await bridge.deadlines.schedule(session, SLA_KIND, ref, due)


# ---------------------------------------------------------------------------- merging


async def merge_persons(session: AsyncSession, from_id: int, into_id: int) -> None:
    """``/connect`` joined two persons: their questions, answers and claims move along."""
    for column in (Question.asker_id, Question.answered_by_id, Question.claimed_by_id):
        await session.execute(
            update(Question).where(column == from_id).values({column.key: into_id})
        )
    await session.execute(
        update(QuestionAnswer).where(QuestionAnswer.author_id == from_id).values(author_id=into_id)
    )
    await session.execute(
        update(QuestionDraft).where(QuestionDraft.person_id == from_id).values(person_id=into_id)
    )


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


QUEUE_ACTIONS = ("claim", "release", "close")


QUEUE_LIMIT = 25


def _actor(ctx: Context) -> Actor:
    return Actor(
        person_id=ctx.person_id,
        account_id=ctx.account.id,
        is_admin=ctx.is_admin,
        here_group_id=ctx.group.id if ctx.group is not None else None,
        in_dm=ctx.is_dm,
    )


async def ask(ctx: Context, private: bool, question: str) -> None:
    group = ctx.require_group()
    text = question.strip()
    check_length(text, MAX_QUESTION, N_("The question"))
    actor = _actor(ctx)
    found = await similar(ctx.session, ctx.community.id, actor, text)
    if found:
        draft = await make_draft(
            ctx.session,
            ctx.community.id,
            actor,
            group.id,
            ctx.channel_key,
            private,
            text,
            [q for q, _ in found],
            ctx.now,
        )
        parts: list[Part | str | list[Part]] = [
            ctx._("Before I pass this on to the hosts: these answered questions look similar.")
        ]
        for q, answer in found:
            parts += ["\n", Bold(text=q.ref), ": " + short(q.text, 200)]
            if answer is not None:
                parts += [
                    "\n  ",
                    ctx.fmt(
                        N_("Answer from {who}: {text}"),
                        who=Bold(text=await name_of(ctx.session, answer.author_id)),
                        text=short(answer.text, 300),
                    ),
                ]
        parts += ["\n", ctx._("Does one of them answer your question?")]
        ctx.reply(
            *parts,
            buttons=[
                Button(label=ctx._("That helps"), action="q.ok", args=(str(draft.id),)),
                Button(
                    label=ctx._("Ask anyway"),
                    action="q.ask",
                    args=(str(draft.id),),
                    style="primary",
                ),
            ],
        )
        return
    q = await create(
        ctx.session,
        ctx.bridge,
        ctx.community.id,
        group_id=group.id,
        asker_id=ctx.person_id,
        asker_account_id=ctx.account.id,
        origin=ctx.channel_key,
        private=private,
        text=text,
        now=ctx.now,
    )
    _asked(ctx, q)


def _asked(ctx: Context, q: Question) -> None:
    if q.private:
        ctx.reply(
            *ctx.fmt(
                N_(
                    "Your private question {ref} went to the hosts only. Their answer "
                    "will come to you as a direct message."
                ),
                ref=Bold(text=q.ref),
            )
        )
    else:
        ctx.reply(
            *ctx.fmt(
                N_("Asked as {ref}; the hosts have been told. Answers will appear here."),
                ref=Bold(text=q.ref),
            )
        )


async def suggestion_helped(ctx: ActionContext, draft_id: str = "") -> None:
    if not is_number(draft_id):
        raise NotFound(N_("This button is no longer valid."))
    await use_draft(ctx.session, int(draft_id), ctx.person_id, "helped", ctx.now)
    ctx.reply(ctx._("Glad it helped! I did not pass your question on."))


async def ask_anyway(ctx: ActionContext, draft_id: str = "") -> None:
    if not is_number(draft_id):
        raise NotFound(N_("This button is no longer valid."))
    draft = await use_draft(ctx.session, int(draft_id), ctx.person_id, "asked", ctx.now)
    q = await create(
        ctx.session,
        ctx.bridge,
        draft.community_id,
        group_id=draft.group_id,
        asker_id=draft.person_id,
        asker_account_id=draft.account_id,
        origin=draft.origin_channel_key,
        private=draft.private,
        text=draft.text,
        now=ctx.now,
    )
    draft.question_id = q.id
    _asked(ctx, q)


async def answer(ctx: Context, question: str, text: str) -> None:
    actor = _actor(ctx)
    q = await find_visible(ctx.session, ctx.bridge, ctx.community.id, actor, question, lock=True)
    accepting = ACCEPT.fullmatch(text.strip())
    first, _, rest = text.strip().partition(" ")
    if accepting is None and first.lower() == "accept" and len(rest.split()) == 1:
        raise UsageError(
            N_("To accept an answer, give its number: {command}"),
            command=f"/answer {q.ref} accept <n>",
        )
    if accepting is not None:
        number = int(accepting.group(1))
        chosen = await accept(ctx.session, ctx.bridge, actor, q, number, ctx.now)
        ctx.reply(
            *ctx.fmt(N_("You accepted answer {n} to {ref}."), n=chosen.number, ref=Bold(text=q.ref))
        )
        return
    done = await add_answer(ctx.session, ctx.bridge, actor, q, text, ctx.now)
    if done.answer.is_host:
        await ctx.audit("question.answer", q.ref, answer=done.answer.number)
    asker = Bold(text=await name_of(ctx.session, q.asker_id))
    if done.where:
        ctx.reply(
            *ctx.fmt(
                N_("Your answer to {ref} went to {who} in {where}."),
                ref=Bold(text=q.ref),
                who=asker,
                where=done.where,
            )
        )
    else:
        ctx.reply(
            *ctx.fmt(
                N_("Your answer to {ref} went to {who} as a direct message."),
                ref=Bold(text=q.ref),
                who=asker,
            )
        )


async def _question_of_button(ctx: ActionContext, question_id: str) -> Question:
    q = await by_id(ctx.session, int(question_id)) if is_number(question_id) else None
    if q is None or not await can_see(ctx.session, ctx.bridge, _actor(ctx), q):
        raise NotFound(N_("This question no longer exists."))
    return q


async def answer_button(ctx: ActionContext, question_id: str = "") -> None:
    q = await _question_of_button(ctx, question_id)
    if q.status == "closed":
        raise UserError(N_("{ref} is closed; it takes no more answers."), ref=q.ref)
    if q.private and not await is_host_for(ctx.session, ctx.bridge, ctx.person_id, q.group_id):
        raise UserError(N_("Only hosts can answer the private question {ref}."), ref=q.ref)
    parts: list[Part] = ctx.fmt(
        N_("Type {command}"),
        command=Code(text=f"/answer {q.ref} {ctx._('<your answer>')}"),
    )
    if q.claimed_by_id is not None and q.claimed_by_id != ctx.person_id:
        parts += ctx.fmt(
            N_(" ({who} has claimed it)"),
            who=Bold(text=await name_of(ctx.session, q.claimed_by_id)),
        )
    ctx.reply(parts, form=FormRequest(command="answer", title=q.ref, prefill={"question": q.ref}))


async def accept_button(ctx: ActionContext, answer_id: str = "") -> None:
    if not is_number(answer_id):
        raise NotFound(N_("This answer no longer exists."))
    q, chosen = await accept_by_id(ctx.session, ctx.bridge, _actor(ctx), int(answer_id), ctx.now)
    ctx.reply(
        *ctx.fmt(N_("You accepted answer {n} to {ref}."), n=chosen.number, ref=Bold(text=q.ref))
    )


async def queue(ctx: Context, action: str | None, question: str | None) -> None:
    if action is None and question is not None:
        raise UsageError(N_("Say what to do with {ref}: claim, release or close."), ref=question)
    if action is not None:
        if question is None:
            raise UsageError(N_("<{name}> is missing."), name="question")
        await _queue_action(ctx, action, question)
        return
    found = await open_for_host(ctx.session, ctx.bridge, ctx.community.id, ctx.person_id)
    # the visibility rule of the channel it is typed in: a closed group's questions only
    # in its own channels, or in a private chat with the bot
    showable = await ctx.showable_group_ids()
    hidden = sum(1 for q in found if q.group_id not in showable)
    found = [q for q in found if q.group_id in showable]
    if not found:
        ctx.reply(ctx._("No open questions. Well done!"))
        if hidden:
            ctx.reply(_hidden_hint(ctx, hidden))
        return
    parts: list[Part | str | list[Part]] = [
        ctx.ngettext(
            "{n} open question, oldest first:", "{n} open questions, oldest first:", len(found)
        ).format(n=len(found))
    ]
    for q in found[:QUEUE_LIMIT]:
        if q.claimed_by_id is None:
            claim = ctx._("unclaimed")
        else:
            claim = ctx._("claimed by {who}").format(
                who=await name_of(ctx.session, q.claimed_by_id)
            )
        ref = q.ref + (" " + ctx._("(private)") if q.private else "")
        parts += [
            "\n",
            *ctx.fmt(
                N_("{ref} · {left} · {claim} · group {group} · {who}: {text}"),
                ref=Bold(text=ref),
                left=time_left(ctx.t, ctx.bridge, q, ctx.now),
                claim=claim,
                group=await group_slug(ctx.session, q.group_id),
                who=await name_of(ctx.session, q.asker_id),
                text=short(q.text),
            ),
        ]
    if len(found) > QUEUE_LIMIT:
        parts += ["\n", ctx._("… and {n} more.").format(n=len(found) - QUEUE_LIMIT)]
    if hidden:
        parts += ["\n", _hidden_hint(ctx, hidden)]
    parts += [
        "\n",
        *ctx.fmt(
            N_("Claim one with {claim}, answer with {answer}."),
            claim=Code(text="/queue claim Q-n"),
            answer=Code(text="/answer Q-n <text>"),
        ),
    ]
    ctx.reply(*parts, private=True)


def _hidden_hint(ctx: Context, hidden: int) -> str:
    return ctx.ngettext(
        "{n} question of a closed group shows only in its channels or privately.",
        "{n} questions of closed groups show only in their channels or privately.",
        hidden,
    ).format(n=hidden)


async def _queue_action(ctx: Context, what: str, question: str) -> None:
    actor = _actor(ctx)
    q = await find_visible(ctx.session, ctx.bridge, ctx.community.id, actor, question, lock=True)
    if what == "claim":
        await _claim(ctx, q)
    elif what == "release":
        await release(ctx.session, ctx.bridge, actor, q)
        await ctx.audit("question.release", q.ref)
        ctx.reply(*ctx.fmt(N_("{ref} is unclaimed again."), ref=Bold(text=q.ref)))
    else:
        await close(ctx.session, ctx.bridge, actor, q, ctx.now)
        await ctx.audit("question.close", q.ref)
        ctx.reply(
            *ctx.fmt(
                N_("{ref} is closed: no more answers, no more reminders."), ref=Bold(text=q.ref)
            )
        )


async def _claim(ctx: Context, q: Question) -> None:
    await claim(ctx.session, ctx.bridge, _actor(ctx), q, ctx.now)
    await ctx.audit("question.claim", q.ref)
    ctx.reply(
        *ctx.fmt(
            N_("You claimed {ref}. Answer with {command}."),
            ref=Bold(text=q.ref),
            command=Code(text=f"/answer {q.ref} <text>"),
        )
    )


async def claim_button(ctx: ActionContext, question_id: str = "") -> None:
    await _claim(ctx, await _question_of_button(ctx, question_id))


def _cards() -> Any:
    """The question cards (``bridge/cards/questions.py``), which read through this module."""
    from bridge.cards import questions

    return questions


# ---------------------------------------------------------------------------- figures for /stats


def _scope(community_id: int, group_id: int | None) -> list[Any]:
    scope: list[Any] = [Question.community_id == community_id]
    if group_id is not None:
        scope.append(Question.group_id == group_id)
    return scope


def contributions(community_id: int, group_id: int | None, since: datetime) -> dict[str, Any]:
    """Since ``since``: one row (``person_id``) per question asked, answer given; queries
    for ``stats`` to count in SQL."""
    scope = _scope(community_id, group_id)
    return {
        "questions": select(Question.asker_id.label("person_id")).where(
            *scope, Question.asked_at >= since
        ),
        "answers": select(QuestionAnswer.author_id.label("person_id"))
        .join(Question, Question.id == QuestionAnswer.question_id)
        .where(*scope, QuestionAnswer.at >= since),
    }


async def response_times(
    session: AsyncSession, community_id: int, group_id: int | None, since: datetime
) -> tuple[list[timedelta], list[timedelta]]:
    """Times to the first response and to the answer, of the questions asked since then."""
    rows = (
        await session.execute(
            select(Question.asked_at, Question.first_response_at, Question.answered_at).where(
                *_scope(community_id, group_id),
                Question.asked_at >= since,
                or_(Question.first_response_at.is_not(None), Question.answered_at.is_not(None)),
            )
        )
    ).all()
    firsts = [f - a for a, f, _ in rows if f is not None]
    answers = [d - a for a, _, d in rows if d is not None]
    return firsts, answers


async def open_counts(
    session: AsyncSession,
    community_id: int,
    group_id: int | None,
    now: datetime,
    answer_within: timedelta,
) -> tuple[int, int]:
    """Open questions now, and how many of them are past the answer time (in SQL)."""
    total, overdue = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Question.asked_at < now - answer_within),
            ).where(*_scope(community_id, group_id), Question.status == "open")
        )
    ).one()
    return int(total), int(overdue or 0)


SEARCH_LIMIT = 10


async def search(ctx: Context, words: str) -> None:
    """``/ask search <words>``: answered questions with every word, that the person may see
    (never another person's private question, never a closed group's elsewhere)."""
    terms = [w for w in words.split() if len(w) > 1][:8]
    if not terms:
        raise UsageError(N_("<{name}> is missing."), name="words")
    actor = _actor(ctx)
    visible = await _visible_group_ids(ctx.session, ctx.community.id, actor)

    found = list(
        (
            await ctx.session.execute(
                select(Question)
                .where(
                    Question.community_id == ctx.community.id,
                    Question.group_id.in_(visible),
                    or_(Question.private.is_(False), Question.asker_id == ctx.person_id),
                    *(Question.text.ilike(like_pattern(t), escape="\\") for t in terms),
                )
                .order_by(Question.id.desc())
                .limit(SEARCH_LIMIT + 1)
            )
        )
        .scalars()
        .all()
    )
    if not found:
        ctx.reply(*ctx.fmt(N_("No question here matches {words}."), words=" ".join(terms)))
        return
    parts: list[Part | str | list[Part]] = [
        ctx.fmt(N_("Questions matching {words}:"), words=" ".join(terms))
    ]
    for q in found[:SEARCH_LIMIT]:
        answer = await best_answer(ctx.session, q)
        parts += ["\n", Bold(text=q.ref), ": " + short(q.text, 200)]
        if answer is not None:
            parts += ["\n  ", ctx.fmt(N_("Answer: {text}"), text=short(answer.text, 300))]
    if len(found) > SEARCH_LIMIT:
        parts += ["\n", ctx._("… and more; add words to narrow it down.")]
    ctx.reply(*parts)


# ---------------------------------------------------------------------------- /group delete


async def count_in_group(session: AsyncSession, group_id: int) -> int:
    return await db_count(session, Question, Question.group_id == group_id)


async def delete_in_group(session: AsyncSession, group_id: int) -> None:
    """Delete the group's questions with their answers and drafts."""
    from sqlalchemy import delete

    ids = select(Question.id).where(Question.group_id == group_id).scalar_subquery()
    await index.forget(session, "question", ids)
    await session.execute(delete(QuestionAnswer).where(QuestionAnswer.question_id.in_(ids)))
    await session.execute(
        delete(QuestionDraft).where(
            or_(QuestionDraft.group_id == group_id, QuestionDraft.question_id.in_(ids))
        )
    )
    await session.execute(delete(Question).where(Question.group_id == group_id))
