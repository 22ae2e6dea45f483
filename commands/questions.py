"""``/ask``, ``/answer`` and ``/queue``: questions to the hosts, answered where they were asked.

Declarations only: the use cases live in ``bridge/services/questions.py``.
"""

from __future__ import annotations

from bridge.cards import questions as cards
from bridge.context import ActionContext, Context
from bridge.i18n import N_
from bridge.registry import (
    Param,
    action,
    command,
    deadline,
    group_content,
    merge_hook,
    renderer,
    subcommand,
)
from bridge.services import questions as svc


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
    await svc.ask(ctx, private, question)


@subcommand(
    "ask",
    "search",
    who="member",
    help=N_("Find questions asked before, with their answers."),
    params=[Param("words", N_("the words to look for"), kind="text")],
)
async def ask_search(ctx: Context, words: str) -> None:
    await svc.search(ctx, words)


@action("q.ok")
async def suggestion_helped(ctx: ActionContext, draft_id: str = "") -> None:
    await svc.suggestion_helped(ctx, draft_id)


@action("q.ask")
async def ask_anyway(ctx: ActionContext, draft_id: str = "") -> None:
    await svc.ask_anyway(ctx, draft_id)


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
    await svc.answer(ctx, question, text)


@action("q.ans")
async def answer_button(ctx: ActionContext, question_id: str = "") -> None:
    await svc.answer_button(ctx, question_id)


@action("q.acc")
async def accept_button(ctx: ActionContext, answer_id: str = "") -> None:
    await svc.accept_button(ctx, answer_id)


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
            choices=svc.QUEUE_ACTIONS,
            required=False,
        ),
        Param("question", N_("the question, e.g. Q-3"), required=False),
    ],
)
async def queue(ctx: Context, action: str | None, question: str | None) -> None:
    await svc.queue(ctx, action, question)


@action("q.claim")
async def claim_button(ctx: ActionContext, question_id: str = "") -> None:
    await svc.claim_button(ctx, question_id)


renderer(svc.CARD)(cards.render_card)


renderer(svc.DESK)(cards.render_desk)


deadline(svc.SLA_KIND)(svc.sla_due)


merge_hook(svc.merge_persons)
group_content(N_("questions"), svc.count_in_group, svc.delete_in_group)
