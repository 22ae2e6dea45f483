"""``/profile``, ``/trades``, ``/reference``, ``/recommend``, ``/partners``: the partner
network of a trade.

Declarations only: the use cases live in ``bridge/services/partners.py``, the cards in
``bridge/cards/partners.py``.
"""

from __future__ import annotations

import dataclasses

from bridge.context import ActionContext, Context
from bridge.errors import UserError
from bridge.i18n import N_
from bridge.registry import Param, action, command, merge_hook, subcommand, text_handler
from bridge.sanitize import is_number
from bridge.services import partners as svc

PERSON = Param("person", N_("platform:user_id or @mention"), metavar="@mention|platform:user_id")

merge_hook(svc.merge_persons)


@command(
    "profile",
    who="member",
    help=N_("Your profile, or another member's: /profile @someone."),
    params=[dataclasses.replace(PERSON, required=False)],
)
async def profile(ctx: Context, person: str | None) -> None:
    await svc.profile_show(ctx, person)


@subcommand(
    "profile",
    "set",
    who="member",
    help=N_("Set a field of your profile (- clears it); private on shows it to your groups only."),
    params=[
        Param("field", N_("what to set"), kind="choice", choices=tuple(svc.FIELDS)),
        Param("value", N_("the value"), kind="text"),
    ],
)
async def profile_set(ctx: Context, field: str, value: str) -> None:
    await svc.profile_set(ctx, field, value)


def _field(name: str, what: str, metavar: str, quoted: bool = True, long: bool = False) -> Param:
    return Param(
        name, what, kind="option", required=False, metavar=metavar, quoted=quoted, multiline=long
    )


@subcommand(
    "profile",
    "edit",
    who="member",
    help=N_(
        "Edit several fields at once (- clears one); alone, it opens a form, or asks you "
        "field by field in the private chat."
    ),
    params=[
        _field("company", N_("Company"), "name"),
        _field("trade", N_("Trade"), "trade"),
        _field("region", N_("Region: postal code prefix or region name"), "region"),
        _field("website", N_("Website (https://…)"), "https://…", quoted=False),
        _field("contact", N_("Contact: what you choose to show"), "contact"),
        _field("description", N_("Description"), "text", long=True),
    ],
)
async def profile_edit(
    ctx: Context,
    company: str | None,
    trade: str | None,
    region: str | None,
    website: str | None,
    contact: str | None,
    description: str | None,
) -> None:
    await svc.profile_edit(
        ctx,
        company=company,
        trade=trade,
        region=region,
        website=website,
        contact=contact,
        description=description,
    )


@action("pf.text", who="member")
async def profile_description(ctx: ActionContext) -> None:
    await svc.description_form(ctx)


text_handler(svc.profile_step)


@subcommand(
    "profile",
    "export",
    who="host",
    help=N_("The profiles as a CSV file for the CRM (hosts; private ones left out)."),
)
async def profile_export(ctx: Context) -> None:
    await svc.export_profiles(ctx)


@command(
    "trades",
    who="member",
    help=N_("The trades profiles choose from; admins add and remove them."),
    params=[
        Param(
            "action", N_("add or remove"), kind="choice", choices=("add", "remove"), required=False
        ),
        Param("trade", N_("the trade"), kind="text", required=False),
    ],
)
async def trades(ctx: Context, action: str | None, trade: str | None) -> None:
    await svc.trades(ctx, action, trade)


@subcommand(
    "reference",
    "add",
    who="member",
    parent_help=N_("References on your profile: completed projects."),
    help=N_("Add a completed project; 'customer @someone' asks them to confirm it."),
    params=[
        Param("title", N_("the project, in quotes"), quoted=True),
        Param(
            "details",
            N_("| a description, a link, customer @someone"),
            kind="text",
            required=False,
            shown="[| description] [link] [customer @mention]",
        ),
    ],
)
async def reference_add(ctx: Context, title: str, details: str | None) -> None:
    await svc.add_reference(ctx, title, details)


@subcommand(
    "reference",
    "remove",
    who="member",
    help=N_("Remove a reference from your profile."),
    params=[Param("reference", N_("the reference, e.g. R-3"))],
)
async def reference_remove(ctx: Context, reference: str) -> None:
    await svc.remove_reference(ctx, reference)


@action("r.ok", who="member")
async def reference_confirmed(ctx: ActionContext, reference_id: str = "") -> None:
    await svc.confirm_reference(ctx, reference_id, True)


@action("r.no", who="member")
async def reference_declined(ctx: ActionContext, reference_id: str = "") -> None:
    await svc.confirm_reference(ctx, reference_id, False)


@command(
    "recommend",
    who="member",
    help=N_("Recommend a partner (once); hosts approve it before it shows on the profile."),
    params=[PERSON, Param("text", N_("why you recommend them"), kind="text")],
)
async def recommend(ctx: Context, person: str, text: str) -> None:
    await svc.recommend(ctx, person, text)


@subcommand(
    "recommend",
    "withdraw",
    who="member",
    help=N_("Take your recommendation of a partner back."),
    params=[PERSON],
)
async def recommend_withdraw(ctx: Context, person: str) -> None:
    await svc.recommend_withdraw(ctx, person)


@subcommand("recommend", "queue", who="host", help=N_("Recommendations waiting (hosts)."))
async def recommend_queue(ctx: Context) -> None:
    await svc.recommend_queue(ctx)


NUMBER = Param("number", N_("the recommendation's number"), kind="int", maximum=10_000_000)


@subcommand(
    "recommend", "approve", who="host", help=N_("Approve a recommendation."), params=[NUMBER]
)
async def recommend_approve(ctx: Context, number: int) -> None:
    await svc.recommend_decide(ctx, number, True, None)


@subcommand(
    "recommend",
    "reject",
    who="host",
    help=N_("Reject a recommendation."),
    params=[NUMBER, Param("reason", N_("why"), kind="text", required=False)],
)
async def recommend_reject(ctx: Context, number: int, reason: str | None) -> None:
    await svc.recommend_decide(ctx, number, False, reason)


@command(
    "partners",
    who="member",
    help=N_("Find partners by trade, region (postal code or name) and words."),
    params=[
        Param(
            "query",
            N_("a trade, a region, words"),
            kind="text",
            required=False,
            shown="[trade] [region] [text]",
        )
    ],
)
async def partners(ctx: Context, query: str | None) -> None:
    await svc.find_partners(ctx, (query or "").split())


@action("p.more", who="member")
async def partners_more(ctx: ActionContext, page: str = "2", query: str = "") -> None:
    if not is_number(page):
        raise UserError(N_("This button is no longer valid."))
    await svc.find_partners(ctx, query.split(), int(page))
