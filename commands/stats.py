"""``/stats``: activity, super users, answer times and the idea funnel, for hosts."""

from __future__ import annotations

from bridge.cards.ideas import status_label
from bridge.context import Context
from bridge.durations import format_duration, parse_duration
from bridge.errors import UsageError
from bridge.i18n import N_
from bridge.messages import Bold, Part, Text
from bridge.registry import Param, command
from bridge.services import stats as svc


@command(
    "stats",
    who="host",
    help=N_("Activity, super users, answer times and the idea funnel (default: 30 days)."),
    params=[Param("period", N_("how far back, e.g. 7d or 90d"), required=False, metavar="period")],
)
async def stats(ctx: Context, period: str | None) -> None:
    try:
        span = parse_duration(period or "30d")
    except ValueError:
        raise UsageError(N_("'{word}' is not a period like 7d or 12w."), word=period) from None
    group = ctx.group
    figures = await svc.collect(
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
        f"{status_label(ctx.t, s)} {figures.funnel[s]}" for s in svc.FUNNEL if s != "rejected"
    )
    line(
        ctx._("Idea funnel: {funnel}; rejected {rejected}.").format(
            funnel=funnel, rejected=figures.funnel["rejected"]
        )
    )
    ctx.reply(*parts, private=True)
