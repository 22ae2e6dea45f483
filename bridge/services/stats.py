"""Figures for community managers: activity, super users, answer times, the idea funnel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, cast, func, literal_column, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.cards.ideas import status_label
from bridge.durations import user_duration
from bridge.i18n import N_
from bridge.messages import Bold, Part, Text
from bridge.models.ideas import IDEA_STATUSES
from bridge.services import ideas, identity, partners, questions, surveys

if TYPE_CHECKING:
    from bridge.context import Context

__all__ = ["FUNNEL", "Stats", "collect"]

FUNNEL = IDEA_STATUSES  # the lifecycle order


@dataclass
class Stats:
    since: datetime
    ideas: int = 0
    votes: int = 0
    comments: int = 0
    questions: int = 0
    answers: int = 0
    surveys: int = 0
    survey_responses: int = 0
    super_users: list[tuple[str, int]] = field(default_factory=list)
    most_posts: list[tuple[str, int]] = field(default_factory=list)
    most_votes: list[tuple[str, int]] = field(default_factory=list)
    most_answers: list[tuple[str, int]] = field(default_factory=list)
    most_recommended: list[tuple[str, int]] = field(default_factory=list)
    answered: int = 0
    first_response: timedelta | None = None
    time_to_answer: timedelta | None = None
    within_sla: int = 0
    open_now: int = 0
    overdue_now: int = 0
    funnel: dict[str, int] = field(default_factory=dict)


async def collect(
    session: AsyncSession,
    community_id: int,
    group_id: int | None,
    since: datetime,
    now: datetime,
    answer_within: timedelta,
) -> Stats:
    """Figures since ``since`` for one group, or the whole community (``group_id`` None).

    Each feature's service says what counts as a contribution (a query of person ids);
    the counts, the super users and the leaders are aggregated in SQL over all of them,
    so the rows read are a handful whatever the size of the community.
    """
    stats = Stats(since=since)
    sources: dict[str, Any] = {
        **ideas.contributions(community_id, group_id, since),
        **questions.contributions(community_id, group_id, since),
        **surveys.contributions(community_id, group_id, since),
    }
    kinds = list(sources)
    every = union_all(
        *(
            select(literal_column(str(n)).label("kind"), query.subquery().c.person_id)
            for n, query in enumerate(sources.values())
        )
    ).subquery()
    # one statement: each person's contributions of each kind counted once (``per``),
    # then the totals, the five most active and the three leaders of posts, votes and
    # answers read from that
    per = (
        select(every.c.kind, every.c.person_id, func.count().label("n"))
        .group_by(every.c.kind, every.c.person_id)
        .cte("per")
    )
    parts: list[Any] = [
        select(
            literal_column("0").label("what"),
            per.c.kind,
            cast(null(), Integer).label("person_id"),
            func.sum(per.c.n).label("n"),
        ).group_by(per.c.kind)
    ]
    wanted: dict[int, tuple[int, tuple[str, ...] | None]] = {
        1: (5, None),
        2: (3, ("ideas", "comments", "questions")),
        3: (3, ("votes",)),
        4: (3, ("answers",)),
    }
    for code, (limit, among) in wanted.items():
        n = func.sum(per.c.n).label("n")
        query = select(per.c.person_id, n).where(per.c.person_id.is_not(None))
        if among is not None:
            query = query.where(per.c.kind.in_([kinds.index(k) for k in among]))
        best = (
            query.group_by(per.c.person_id).order_by(n.desc(), per.c.person_id).limit(limit)
        ).subquery()
        parts.append(
            select(
                literal_column(str(code)).label("what"),
                cast(null(), Integer).label("kind"),
                best.c.person_id,
                best.c.n,
            )
        )
    figures: dict[int, list[tuple[int, int]]] = {code: [] for code in range(5)}
    for what, kind, person_id, n in (await session.execute(union_all(*parts))).all():
        key = int(kind) if int(what) == 0 else int(person_id)
        figures[int(what)].append((key, int(n)))
    count = {kinds[k]: n for k, n in figures[0]}
    stats.ideas, stats.votes = count.get("ideas", 0), count.get("votes", 0)
    stats.comments, stats.questions = count.get("comments", 0), count.get("questions", 0)
    stats.answers, stats.surveys = count.get("answers", 0), count.get("surveys", 0)
    stats.survey_responses = await surveys.responses_since(session, community_id, group_id, since)

    def ranked(code: int) -> list[tuple[int, int]]:  # the union keeps no order
        return sorted(figures[code], key=lambda row: (-row[1], row[0]))

    top = ranked(1)
    leaders = {"posts": ranked(2), "votes": ranked(3), "answers": ranked(4)}
    everyone = {p for p, _ in top} | {p for rows in leaders.values() for p, _ in rows}
    if everyone:
        names = await identity.display_names(session, sorted(everyone))
        stats.super_users = [(names.get(p) or f"#{p}", n) for p, n in top]
        stats.most_posts, stats.most_votes, stats.most_answers = (
            [(names.get(p) or f"#{p}", n) for p, n in leaders[key]]
            for key in ("posts", "votes", "answers")
        )
    stats.most_recommended = await partners.most_recommended(session, community_id)

    firsts, answers = await questions.response_times(session, community_id, group_id, since)
    stats.answered = len(answers)
    stats.within_sla = sum(1 for d in answers if d <= answer_within)
    stats.first_response = _median(firsts)
    stats.time_to_answer = _median(answers)
    stats.open_now, stats.overdue_now = await questions.open_counts(
        session, community_id, group_id, now, answer_within
    )
    stats.funnel = await ideas.funnel(session, community_id, group_id)
    return stats


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=median(v.total_seconds() for v in values))


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


async def stats(ctx: Context, period: str | None) -> None:
    span = user_duration(
        period or "30d", timedelta(days=3650), N_("'{value}' is not a period like 7d or 12w.")
    )
    group = ctx.group
    figures = await collect(
        ctx.session,
        ctx.community.id,
        group.id if group else None,
        ctx.now - span,
        ctx.now,
        ctx.bridge.config.questions.answer_within,
    )
    where = group.slug if group else ctx.community.name
    parts: list[Part] = [
        *ctx.fmt(
            N_("Statistics for {where}, last {period}"),
            where=Bold(text=where),
            period=ctx.t.span(span),
        )
    ]

    def line(text: str) -> None:
        parts.append(Text(text="\n" + text))

    counted = [
        ctx.ngettext("{n} idea", "{n} ideas", figures.ideas).format(n=figures.ideas),
        ctx.ngettext("{n} vote", "{n} votes", figures.votes).format(n=figures.votes),
        ctx.ngettext("{n} comment", "{n} comments", figures.comments).format(n=figures.comments),
        ctx.ngettext("{n} question", "{n} questions", figures.questions).format(
            n=figures.questions
        ),
        ctx.ngettext("{n} answer", "{n} answers", figures.answers).format(n=figures.answers),
    ]
    surveys = ctx.ngettext(
        "{n} survey with {responses}", "{n} surveys with {responses}", figures.surveys
    ).format(
        n=figures.surveys,
        responses=ctx.ngettext("{n} response", "{n} responses", figures.survey_responses).format(
            n=figures.survey_responses
        ),
    )
    line(ctx._("Activity: {counts}, {surveys}.").format(counts=", ".join(counted), surveys=surveys))
    if figures.super_users:
        users = ", ".join(f"{name} ({n})" for name, n in figures.super_users)
        line(ctx._("Super users: {users}").format(users=users))
    else:
        line(ctx._("Super users: nobody has contributed yet."))

    def people(rows: list[tuple[str, int]]) -> str:
        return ", ".join(f"{name} ({n})" for name, n in rows) or ctx._("nobody yet")

    line(
        ctx._("Most posts: {posts}; most votes: {votes}; most answers: {answers}.").format(
            posts=people(figures.most_posts),
            votes=people(figures.most_votes),
            answers=people(figures.most_answers),
        )
    )
    line(
        ctx._("Most recommended partners: {partners}").format(
            partners=people(figures.most_recommended)
        )
    )
    none = ctx._("n/a")
    line(
        ctx._(
            "Answer times: median first response {first}, median answer {answer}; "
            "{within} of {answered} answered within the SLA of {sla}."
        ).format(
            first=ctx.t.span(figures.first_response)
            if figures.first_response is not None
            else none,
            answer=ctx.t.span(figures.time_to_answer)
            if figures.time_to_answer is not None
            else none,
            within=figures.within_sla,
            answered=figures.answered,
            sla=ctx.t.span(ctx.bridge.config.questions.answer_within),
        )
    )
    line(
        ctx._("Open questions now: {open}, overdue: {overdue}.").format(
            open=figures.open_now, overdue=figures.overdue_now
        )
    )
    funnel = " → ".join(
        f"{status_label(ctx.t, s)} {figures.funnel[s]}" for s in FUNNEL if s != "rejected"
    )
    line(
        ctx._("Idea funnel: {funnel}; rejected {rejected}.").format(
            funnel=funnel, rejected=figures.funnel["rejected"]
        )
    )
    ctx.reply(*parts, private=True)
