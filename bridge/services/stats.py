"""Figures for community managers: activity, super users, answer times, the idea funnel."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

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

    Each feature's service counts its own records (aggregated in SQL); this only adds up.
    """
    stats = Stats(since=since)
    idea_counts = await ideas.activity(session, community_id, group_id, since)
    question_counts = await questions.activity(session, community_id, group_id, since)
    survey_owners, stats.survey_responses = await surveys.activity(
        session, community_id, group_id, since
    )
    stats.ideas = sum(idea_counts["ideas"].values())
    stats.votes = sum(idea_counts["votes"].values())
    stats.comments = sum(idea_counts["comments"].values())
    stats.questions = sum(question_counts["questions"].values())
    stats.answers = sum(question_counts["answers"].values())
    stats.surveys = sum(survey_owners.values())

    contributions: Counter[int] = Counter()
    for per_person in (*idea_counts.values(), *question_counts.values(), survey_owners):
        contributions.update(per_person)
    top = contributions.most_common(5)
    posts: Counter[int] = Counter(idea_counts["ideas"])
    posts.update(idea_counts["comments"])
    posts.update(question_counts["questions"])
    leaders = {
        "posts": posts.most_common(3),
        "votes": Counter(idea_counts["votes"]).most_common(3),
        "answers": Counter(question_counts["answers"]).most_common(3),
    }
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
