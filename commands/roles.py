"""``/role``: grant member, host or admin, community-wide or for one group.

Declarations only: the use cases live in ``bridge/services/roles.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command, subcommand
from bridge.services import roles


@command(
    "role",
    who="admin",
    help=N_("Grant a role (member, host, admin), in the whole community or in one group."),
    params=[
        Param("person", N_("platform:user_id or @mention"), metavar="platform:user_id|@mention"),
        Param("role", N_("the role to grant"), kind="choice", choices=roles.ROLES),
        Param("group", N_("only in this group"), required=False),
    ],
)
async def role(ctx: Context, person: str, role: str, group: str | None) -> None:
    await roles.role(ctx, person, role, group)


@subcommand(
    "role",
    "revoke",
    who="admin",
    help=N_("Take a role back."),
    params=[
        Param("person", N_("platform:user_id or @mention"), metavar="platform:user_id|@mention"),
        Param("role", N_("the role to take back"), kind="choice", choices=roles.ROLES),
        Param("group", N_("only in this group"), required=False),
    ],
)
async def role_revoke(ctx: Context, person: str, role: str, group: str | None) -> None:
    await roles.revoke(ctx, person, role, group)


@command(
    "roles",
    who="admin",
    help=N_("Who holds which role, in the community or in one group."),
    params=[Param("group", N_("only this group"), required=False)],
)
async def roles_list(ctx: Context, group: str | None) -> None:
    await roles.roles_list(ctx, group)
