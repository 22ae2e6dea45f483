"""``/idea``, ``/ideas``, ``/vote``, ``/comment``: propose, list, support and discuss ideas.

Declarations only: the use cases live in ``bridge/services/ideas.py``, the cards in
``bridge/cards/ideas.py``.
"""

from __future__ import annotations

from bridge.cards import ideas as cards
from bridge.context import Context
from bridge.errors import UserError
from bridge.feeds import feed_source
from bridge.i18n import N_
from bridge.registry import Param, action, command, merge_hook, renderer
from bridge.services import ideas as svc

IDEA_PARAM = Param("idea", N_("the idea, e.g. I-12"))

renderer("idea")(cards.render_idea)
renderer("showcase")(cards.render_showcase)
merge_hook(svc.merge_votes)
feed_source(svc.idea_feed)


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
    await svc.propose(ctx, text)


@action("i.new", who="member")
async def propose_anyway(ctx: Context, draft_id: str = "") -> None:
    await svc.propose_draft(ctx, draft_id)


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
            choices=tuple(svc.DIRECTIONS),
            required=False,
        ),
    ],
)
async def vote(ctx: Context, idea: str, direction: str | None) -> None:
    await svc.vote(ctx, idea, direction)


@action("i.sup", who="member")
async def support_button(ctx: Context, idea_id: str = "") -> None:
    await svc.support(ctx, idea_id)


@command(
    "comment",
    who="member",
    help=N_("Comment on an idea; the comment appears under its card."),
    params=[IDEA_PARAM, Param("text", N_("your comment"), kind="text")],
)
async def comment(ctx: Context, idea: str, text: str) -> None:
    await svc.comment(ctx, idea, text)


@action("i.com", who="member")
async def comment_button(ctx: Context, idea_id: str = "") -> None:
    await svc.comment_form(ctx, idea_id)


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
            choices=svc.ORDERS,
            required=False,
        ),
        Param("page", N_("page number"), kind="int", required=False),
    ],
)
async def ideas(ctx: Context, order: str | None, page: int | None) -> None:
    await svc.list_page(ctx, order or "new", page or 1)


@action("i.list", who="member")
async def more_button(ctx: Context, order: str = "new", page: str = "1") -> None:
    if not page.isdigit():
        raise UserError(N_("This button has expired."))
    await svc.list_page(ctx, order, int(page))
