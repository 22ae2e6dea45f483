"""Figures for community managers: activity, super users, answer times, the idea funnel."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.cards.ideas import status_label
from bridge.durations import format_duration, parse_duration
from bridge.errors import UsageError
from bridge.i18n import N_
from bridge.messages import Bold, Part, Text
from bridge.models import Person
from bridge.models.ideas import IDEA_STATUSES, Idea, IdeaComment, IdeaVote
from bridge.models.questions import Question, QuestionAnswer
from bridge.models.surveys import Survey, SurveyRespondent

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
    """Figures since ``since`` for one group, or the whole community (``group_id`` None)."""
    stats = Stats(since=since)
    idea_scope = [Idea.community_id == community_id]
    q_scope = [Question.community_id == community_id]
    s_scope = [Survey.community_id == community_id]
    if group_id is not None:
        idea_scope.append(Idea.group_id == group_id)
        q_scope.append(Question.group_id == group_id)
        s_scope.append(Survey.group_id == group_id)

    contributions: Counter[int] = Counter()

    async def people(stmt: object, weight: int = 1) -> int:
        rows = (await session.execute(stmt)).scalars().all()  # type: ignore[call-overload]
        for person_id in rows:
            contributions[person_id] += weight
        return len(rows)

    stats.ideas = await people(
        select(Idea.proposer_id).where(*idea_scope, Idea.created_at >= since)
    )
    stats.votes = await people(
        select(IdeaVote.person_id)
        .join(Idea, Idea.id == IdeaVote.idea_id)
        .where(*idea_scope, IdeaVote.updated_at >= since)
    )
    stats.comments = await people(
        select(IdeaComment.person_id)
        .join(Idea, Idea.id == IdeaComment.idea_id)
        .where(*idea_scope, IdeaComment.created_at >= since)
    )
    stats.questions = await people(
        select(Question.asker_id).where(*q_scope, Question.asked_at >= since)
    )
    stats.answers = await people(
        select(QuestionAnswer.author_id)
        .join(Question, Question.id == QuestionAnswer.question_id)
        .where(*q_scope, QuestionAnswer.at >= since)
    )
    stats.surveys = await people(
        select(Survey.owner_id).where(
            *s_scope, Survey.created_at >= since, Survey.owner_id.is_not(None)
        )
    )
    stats.survey_responses = int(
        (
            await session.execute(
                select(func.count())
                .select_from(SurveyRespondent)
                .join(Survey, Survey.id == SurveyRespondent.survey_id)
                .where(*s_scope, Survey.created_at >= since)
            )
        ).scalar_one()
    )

    top = contributions.most_common(5)
    if top:
        names = dict(
            (
                await session.execute(
                    select(Person.id, Person.display_name).where(Person.id.in_([p for p, _ in top]))
                )
            ).all()
        )
        stats.super_users = [(names.get(p) or f"#{p}", n) for p, n in top]

    asked = (
        await session.execute(
            select(Question.asked_at, Question.first_response_at, Question.answered_at).where(
                *q_scope, Question.asked_at >= since
            )
        )
    ).all()
    firsts = [(f - a) for a, f, _ in asked if f is not None]
    answers = [(d - a) for a, _, d in asked if d is not None]
    stats.answered = len(answers)
    stats.within_sla = sum(1 for d in answers if d <= answer_within)
    stats.first_response = _median(firsts)
    stats.time_to_answer = _median(answers)
    open_asked = (
        (
            await session.execute(
                select(Question.asked_at).where(*q_scope, Question.status == "open")
            )
        )
        .scalars()
        .all()
    )
    stats.open_now = len(open_asked)
    stats.overdue_now = sum(1 for a in open_asked if now - a > answer_within)

    funnel = dict(
        (
            await session.execute(
                select(Idea.status, func.count()).where(*idea_scope).group_by(Idea.status)
            )
        ).all()
    )
    stats.funnel = {status: int(funnel.get(status, 0)) for status in FUNNEL}
    return stats


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=median(v.total_seconds() for v in values))


# ------------------------------------------------------------------ one use case per command
# Each takes the command's Context and its parsed arguments; the command module only
# declares the grammar and calls these.


async def stats(ctx: Context, period: str | None) -> None:
    try:
        span = parse_duration(period or "30d")
    except ValueError:
        raise UsageError(N_("'{word}' is not a period like 7d or 12w."), word=period) from None
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
            period=format_duration(span),
        )
    ]

    def line(text: str) -> None:
        parts.append(Text(text="\n" + text))

    line(
        ctx._(
            "Activity: {ideas} ideas, {votes} votes, {comments} comments, {questions} "
            "questions, {answers} answers, {surveys} surveys with {responses} responses."
        ).format(
            ideas=figures.ideas,
            votes=figures.votes,
            comments=figures.comments,
            questions=figures.questions,
            answers=figures.answers,
            surveys=figures.surveys,
            responses=figures.survey_responses,
        )
    )
    if figures.super_users:
        users = ", ".join(f"{name} ({n})" for name, n in figures.super_users)
        line(ctx._("Super users: {users}").format(users=users))
    else:
        line(ctx._("Super users: nobody has contributed yet."))
    none = ctx._("n/a")
    line(
        ctx._(
            "Answer times: median first response {first}, median answer {answer}; "
            "{within} of {answered} answered within the SLA of {sla}."
        ).format(
            first=format_duration(figures.first_response)
            if figures.first_response is not None
            else none,
            answer=format_duration(figures.time_to_answer)
            if figures.time_to_answer is not None
            else none,
            within=figures.within_sla,
            answered=figures.answered,
            sla=format_duration(ctx.bridge.config.questions.answer_within),
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
