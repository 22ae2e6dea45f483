"""``/link`` and ``/unlink``: which group's content a channel shows.

Declarations only: the use cases live in ``bridge/services/groups.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command
from bridge.services import groups as svc


@command(
    "link",
    who="admin",
    help=N_("Link this channel to a group: the group's content is shown here."),
    params=[Param("group", N_("the group's name"))],
)
async def link(ctx: Context, group: str) -> None:
    await svc.link(ctx, group)


@command("unlink", who="admin", help=N_("Remove this channel's link to its group."))
async def unlink(ctx: Context) -> None:
    await svc.unlink(ctx)
