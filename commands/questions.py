"""``/ask``, ``/answer`` and ``/queue``: questions to the hosts, answered where they were asked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.context import ActionContext, Context
from bridge.errors import NotFound, UsageError, UserError
from bridge.i18n import N_
from bridge.messages import Bold, Button, Code, FormRequest, Message, Part
from bridge.models.questions import Question
from bridge.registry import Param, action, command, deadline, renderer
from bridge.services import questions as svc

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bridge.core import Bridge

QUEUE_ACTIONS = ("claim", "release", "close")
QUEUE_LIMIT = 25


def _actor(ctx: Context) -> svc.Actor:
    return svc.Actor(
        person_id=ctx.person_id,
        account_id=ctx.account.id,
        is_admin=ctx.is_admin,
        here_group_id=ctx.group.id if ctx.group is not None else None,
        in_dm=ctx.is_dm,
    )


# ---------------------------------------------------------------------------- /ask


@command(
    "ask",
    who="member",
    in_group=True,
    help=N_("Ask the hosts a question; similar answered questions are shown first."),
    params=[
        Param(
            "private",
            N_("only the hosts see it; the answer comes as a direct message"),
            kind="flag",
            required=False,
        ),
        Param("question", N_("your question"), kind="text"),
    ],
)
async def ask(ctx: Context, private: bool, question: str) -> None:
    group = ctx.require_group()
    text = question.strip()
    if len(text) > svc.MAX_QUESTION:
        raise UserError(
            N_("Please keep a question under {limit} characters."), limit=svc.MAX_QUESTION
        )
    actor = _actor(ctx)
    found = await svc.similar(ctx.session, ctx.community.id, actor, text)
    if found:
        draft = await svc.make_draft(
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
            parts += ["\n", Bold(text=q.ref), ": " + svc.short(q.text, 200)]
            if answer is not None:
                parts += [
                    "\n  ",
                    ctx.fmt(
                        N_("Answer from {who}: {text}"),
                        who=Bold(text=await svc.name_of(ctx.session, answer.author_id)),
                        text=svc.short(answer.text, 300),
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
    q = await svc.create(
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


@action("q.ok")
async def suggestion_helped(ctx: ActionContext, draft_id: str = "") -> None:
    if not draft_id.isdigit():
        raise NotFound(N_("This button has expired."))
    await svc.use_draft(ctx.session, int(draft_id), ctx.person_id, "helped", ctx.now)
    ctx.reply(ctx._("Glad it helped! I did not pass your question on."))


@action("q.ask")
async def ask_anyway(ctx: ActionContext, draft_id: str = "") -> None:
    if not draft_id.isdigit():
        raise NotFound(N_("This button has expired."))
    draft = await svc.use_draft(ctx.session, int(draft_id), ctx.person_id, "asked", ctx.now)
    q = await svc.create(
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


# ---------------------------------------------------------------------------- /answer


@command(
    "answer",
    who="member",
    help=N_("Answer a question; it goes back to the asker where they asked."),
    params=[
        Param("question", N_("the question, e.g. Q-3")),
        Param(
            "text",
            N_("your answer (the asker may type 'accept 2' to accept answer 2)"),
            kind="text",
        ),
    ],
)
async def answer(ctx: Context, question: str, text: str) -> None:
    actor = _actor(ctx)
    q = await svc.find_visible(
        ctx.session, ctx.bridge, ctx.community.id, actor, question, lock=True
    )
    accept = svc.ACCEPT.fullmatch(text.strip())
    if accept is not None:
        chosen = await svc.accept(ctx.session, ctx.bridge, actor, q, int(accept.group(1)), ctx.now)
        ctx.reply(
            *ctx.fmt(N_("You accepted answer {n} to {ref}."), n=chosen.number, ref=Bold(text=q.ref))
        )
        return
    done = await svc.add_answer(ctx.session, ctx.bridge, actor, q, text, ctx.now)
    if done.answer.is_host:
        await ctx.audit("question.answer", q.ref, answer=done.answer.number)
    asker = Bold(text=await svc.name_of(ctx.session, q.asker_id))
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
    q = await svc.by_id(ctx.session, int(question_id)) if question_id.isdigit() else None
    if q is None or not await svc.can_see(ctx.session, ctx.bridge, _actor(ctx), q):
        raise NotFound(N_("This question no longer exists."))
    return q


@action("q.ans")
async def answer_button(ctx: ActionContext, question_id: str = "") -> None:
    q = await _question_of_button(ctx, question_id)
    if q.status == "closed":
        raise UserError(N_("{ref} is closed; it takes no more answers."), ref=q.ref)
    if q.private and not await svc.is_host_for(ctx.session, ctx.bridge, ctx.person_id, q.group_id):
        raise UserError(N_("Only hosts can answer the private question {ref}."), ref=q.ref)
    parts: list[Part] = ctx.fmt(
        N_("Type {command}"), command=Code(text=f"/answer {q.ref} <your answer>")
    )
    if q.claimed_by_id is not None and q.claimed_by_id != ctx.person_id:
        parts += ctx.fmt(
            N_(" ({who} has claimed it)"),
            who=Bold(text=await svc.name_of(ctx.session, q.claimed_by_id)),
        )
    ctx.reply(parts, form=FormRequest(command="answer", title=q.ref, prefill={"question": q.ref}))


@action("q.acc")
async def accept_button(ctx: ActionContext, answer_id: str = "") -> None:
    if not answer_id.isdigit():
        raise NotFound(N_("This answer no longer exists."))
    q, chosen = await svc.accept_by_id(
        ctx.session, ctx.bridge, _actor(ctx), int(answer_id), ctx.now
    )
    ctx.reply(
        *ctx.fmt(N_("You accepted answer {n} to {ref}."), n=chosen.number, ref=Bold(text=q.ref))
    )


# ---------------------------------------------------------------------------- /queue


@command(
    "queue",
    who="host",
    help=N_(
        "Open questions, oldest first, with the time left to answer; claim, release or close one."
    ),
    params=[
        Param(
            "action",
            N_("claim, release or close a question"),
            kind="choice",
            choices=QUEUE_ACTIONS,
            required=False,
        ),
        Param("question", N_("the question, e.g. Q-3"), required=False),
    ],
)
async def queue(ctx: Context, action: str | None, question: str | None) -> None:
    if action is None and question is not None:
        raise UsageError(N_("Say what to do with {ref}: claim, release or close."), ref=question)
    if action is not None:
        if question is None:
            raise UsageError(N_("<{name}> is missing."), name="question")
        await _queue_action(ctx, action, question)
        return
    found = await svc.open_for_host(ctx.session, ctx.bridge, ctx.community.id, ctx.person_id)
    if not found:
        ctx.reply(ctx._("No open questions. Well done!"))
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
                who=await svc.name_of(ctx.session, q.claimed_by_id)
            )
        ref = q.ref + (" " + ctx._("(private)") if q.private else "")
        parts += [
            "\n",
            *ctx.fmt(
                N_("{ref} · {left} · {claim} · group {group} · {who}: {text}"),
                ref=Bold(text=ref),
                left=svc.time_left(ctx.t, ctx.bridge, q, ctx.now),
                claim=claim,
                group=await svc.group_slug(ctx.session, q.group_id),
                who=await svc.name_of(ctx.session, q.asker_id),
                text=svc.short(q.text),
            ),
        ]
    if len(found) > QUEUE_LIMIT:
        parts += ["\n", ctx._("… and {n} more.").format(n=len(found) - QUEUE_LIMIT)]
    parts += [
        "\n",
        *ctx.fmt(
            N_("Claim one with {claim}, answer with {answer}."),
            claim=Code(text="/queue claim Q-n"),
            answer=Code(text="/answer Q-n <text>"),
        ),
    ]
    ctx.reply(*parts, private=True)


async def _queue_action(ctx: Context, what: str, question: str) -> None:
    actor = _actor(ctx)
    q = await svc.find_visible(
        ctx.session, ctx.bridge, ctx.community.id, actor, question, lock=True
    )
    if what == "claim":
        await _claim(ctx, q)
    elif what == "release":
        await svc.release(ctx.session, ctx.bridge, actor, q)
        await ctx.audit("question.release", q.ref)
        ctx.reply(*ctx.fmt(N_("{ref} is unclaimed again."), ref=Bold(text=q.ref)))
    else:
        await svc.close(ctx.session, ctx.bridge, actor, q, ctx.now)
        await ctx.audit("question.close", q.ref)
        ctx.reply(
            *ctx.fmt(
                N_("{ref} is closed: no more answers, no more reminders."), ref=Bold(text=q.ref)
            )
        )


async def _claim(ctx: Context, q: Question) -> None:
    await svc.claim(ctx.session, ctx.bridge, _actor(ctx), q, ctx.now)
    await ctx.audit("question.claim", q.ref)
    ctx.reply(
        *ctx.fmt(
            N_("You claimed {ref}. Answer with {command}."),
            ref=Bold(text=q.ref),
            command=Code(text=f"/answer {q.ref} <text>"),
        )
    )


@action("q.claim")
async def claim_button(ctx: ActionContext, question_id: str = "") -> None:
    await _claim(ctx, await _question_of_button(ctx, question_id))


# ---------------------------------------------------------------------------- cards, SLA


@renderer(svc.CARD)
async def render_card(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    return await svc.render(session, bridge, ident, locale, desk=False)


@renderer(svc.DESK)
async def render_desk(
    session: AsyncSession, bridge: Bridge, ident: str, locale: str
) -> Message | None:
    return await svc.render(session, bridge, ident, locale, desk=True)


@deadline(svc.SLA_KIND)
async def sla_due(session: AsyncSession, bridge: Bridge, ref: str) -> None:
    await svc.sla_due(session, bridge, ref)
