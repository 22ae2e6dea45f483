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
from bridge.registry import (
    Param,
    action,
    command,
    group_content,
    merge_hook,
    renderer,
    subcommand,
)
from bridge.sanitize import is_number
from bridge.services import ideas as svc

IDEA_PARAM = Param("idea", N_("the idea, e.g. I-12"))

renderer("idea")(cards.render_idea)
renderer("showcase")(cards.render_showcase)
renderer("comment")(cards.render_comment)
merge_hook(svc.merge_votes)
feed_source(svc.idea_feed)
group_content(N_("ideas"), svc.count_in_group, svc.delete_in_group, svc.group_closed)


@command(
    "idea",
    who="member",
    help=N_("Propose an idea to this channel's group, or show one: /idea I-3."),
    params=[
        Param(
            "text",
            N_("a short title, then | and a description"),
            kind="text",
            metavar="title [| description]",
            shown="<title> [| description]",
        )
    ],
)
async def idea(ctx: Context, text: str) -> None:
    if svc.IDEA_REF.match(text.strip()):  # /idea I-3: show it
        await svc.show(ctx, text.strip())
        return
    await svc.propose(ctx, text)


@subcommand(
    "idea",
    "edit",
    who="member",
    help=N_("Change an idea's title and description (its proposer while new; hosts)."),
    params=[IDEA_PARAM, Param("text", N_("the new title, then | and a description"), kind="text")],
)
async def idea_edit(ctx: Context, idea: str, text: str) -> None:
    await svc.edit(ctx, idea, text)


@subcommand(
    "idea",
    "withdraw",
    who="member",
    help=N_("Take an idea back (its proposer while new; hosts, with a reason)."),
    params=[IDEA_PARAM, Param("reason", N_("why"), kind="text", required=False)],
)
async def idea_withdraw(ctx: Context, idea: str, reason: str | None) -> None:
    await svc.withdraw(ctx, idea, reason)


@subcommand(
    "ideas",
    "search",
    who="member",
    help=N_("Find ideas by words in their title or description."),
    params=[Param("words", N_("the words to look for"), kind="text")],
)
async def ideas_search(ctx: Context, words: str) -> None:
    await svc.search(ctx, words)


@subcommand(
    "ideas",
    "export",
    who="host",
    in_group=True,
    help=N_("The group's ideas as a CSV file (hosts)."),
)
async def ideas_export(ctx: Context) -> None:
    await svc.export(ctx)


@subcommand(
    "comment",
    "edit",
    who="member",
    help=N_("Change a comment (its author; hosts)."),
    params=[
        IDEA_PARAM,
        Param("number", N_("the comment's number, as /idea shows it"), kind="int", maximum=100_000),
        Param("text", N_("the new text"), kind="text"),
    ],
)
async def comment_edit(ctx: Context, idea: str, number: int, text: str) -> None:
    await svc.comment_edit(ctx, idea, number, text)


@subcommand(
    "comment",
    "delete",
    who="member",
    help=N_("Delete a comment (its author; hosts)."),
    params=[
        IDEA_PARAM,
        Param("number", N_("the comment's number, as /idea shows it"), kind="int", maximum=100_000),
    ],
)
async def comment_delete(ctx: Context, idea: str, number: int) -> None:
    await svc.comment_delete(ctx, idea, number)


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
    if not is_number(page):
        raise UserError(N_("This button is no longer valid."))
    await svc.list_page(ctx, order, int(page))
