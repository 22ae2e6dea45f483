"""``/groups``, ``/group new`` and ``/group set``: the community's groups and their flags.

Declarations only: the use cases live in ``bridge/services/groups.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command, subcommand
from bridge.services import groups as svc


@command("groups", who="all", help=N_("List the groups you can see, with their linked channels."))
async def groups(ctx: Context) -> None:
    await svc.groups(ctx)


@subcommand(
    "group",
    "new",
    who="admin",
    help=N_("Create a group (default internal)."),
    parent_help=N_("Create groups and change their visibility and flags."),
    params=[
        Param("name", N_("the group's name")),
        Param(
            "visibility",
            N_("who may see it"),
            kind="choice",
            choices=svc.VISIBILITY,
            required=False,
        ),
        Param(
            "showcase", N_("make it the showcase of promoted ideas"), kind="flag", required=False
        ),
        Param(
            "hostdesk", N_("questions arrive in its linked channels"), kind="flag", required=False
        ),
    ],
)
async def group_new(
    ctx: Context, name: str, visibility: str | None, showcase: bool, hostdesk: bool
) -> None:
    await svc.group_new(ctx, name, visibility, showcase, hostdesk)


@subcommand(
    "group",
    "set",
    who="admin",
    help=N_("Change a group's visibility or flags."),
    params=[
        Param("name", N_("the group's name")),
        Param(
            "setting",
            N_("new visibility, or a flag to set (showcase) or clear (-showcase)"),
            kind="choice",
            choices=svc.SETTINGS,
        ),
    ],
)
async def group_set(ctx: Context, name: str, setting: str) -> None:
    await svc.group_set(ctx, name, setting)


@subcommand(
    "group",
    "rename",
    who="admin",
    help=N_("Give a group a new name (its links and content stay)."),
    params=[Param("name", N_("the group's name")), Param("new", N_("its new name"))],
)
async def group_rename(ctx: Context, name: str, new: str) -> None:
    await svc.group_rename(ctx, name, new)


@subcommand(
    "group",
    "delete",
    who="admin",
    help=N_("Delete a group: only an empty one, or with force all its content too."),
    params=[
        Param("name", N_("the group's name")),
        Param(
            "force", N_("delete its ideas, questions and surveys too"), kind="flag", required=False
        ),
    ],
)
async def group_delete(ctx: Context, name: str, force: bool) -> None:
    await svc.group_delete(ctx, name, force)
