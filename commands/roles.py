"""``/role``: grant member, host or admin, community-wide or for one group."""

from __future__ import annotations

from bridge.context import Context
from bridge.errors import UserError
from bridge.i18n import N_
from bridge.messages import Bold
from bridge.registry import Param, command
from bridge.services import groups as groups_svc
from bridge.services import identity, roles

ROLES = ("member", "host", "admin")


@command(
    "role",
    who="admin",
    help=N_("Grant a role (member, host, admin), in the whole community or in one group."),
    params=[
        Param("person", N_("platform:user_id or @mention"), metavar="platform:user_id|@mention"),
        Param("role", N_("the role to grant"), kind="choice", choices=ROLES),
        Param("group", N_("only in this group"), required=False),
    ],
)
async def role(ctx: Context, person: str, role: str, group: str | None) -> None:
    account = await identity.resolve_account(
        ctx.session,
        ctx.community.id,
        ctx.account.platform,
        person,
        ctx.now,
        ctx.bridge.parse_mention,
    )
    target_group = (
        await groups_svc.get_group(ctx.session, ctx.community.id, group) if group else None
    )
    if role == "admin" and target_group is not None:
        raise UserError(N_("Admins are community-wide; grant 'host' for one group."))
    added = await roles.grant(
        ctx.session,
        account.person_id,
        role,
        target_group.id if target_group else None,
        ctx.person_id,
        ctx.now,
    )
    who = identity.mention(account)
    where = target_group.slug if target_group else ctx._("the whole community")
    if not added:
        raise UserError(
            N_("{who} is {role} in {where} already."),
            who=f"@{who.text}",
            role=ctx._(role),
            where=where,
        )
    await ctx.audit(
        "role.grant", account.key, role=role, group=target_group.slug if target_group else None
    )
    ctx.reply(
        *ctx.fmt(
            N_("{who} is now {role} in {where}."), who=who, role=Bold(text=ctx._(role)), where=where
        )
    )
