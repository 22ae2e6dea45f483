"""``/groups``, ``/group new`` and ``/group set``: the community's groups and their flags."""

from __future__ import annotations

from bridge.context import Context
from bridge.errors import UserError
from bridge.i18n import N_
from bridge.messages import Bold, Code
from bridge.models import Group
from bridge.registry import Param, command, subcommand
from bridge.services import groups as svc

VISIBILITY = ("closed", "internal", "public")


def _flags(ctx: Context, group: Group) -> str:
    flags = [ctx._(group.visibility)]
    if group.showcase:
        flags.append(ctx._("showcase"))
    if group.hostdesk:
        flags.append(ctx._("host desk"))
    return ", ".join(flags)


@command("groups", who="all", help=N_("List the groups you can see, with their linked channels."))
async def groups(ctx: Context) -> None:
    found = await svc.visible_groups(
        ctx.session,
        ctx.community.id,
        ctx.person_id,
        ctx.is_admin,
        ctx.group.id if ctx.group else None,
    )
    if not found:
        ctx.reply(ctx._("There are no groups yet. An admin can create one with /group new <name>."))
        return
    parts: list = [ctx._("Groups:")]
    for group in found:
        channels = await svc.linked_channels(ctx.session, group.id, active_only=False)
        parts.append("\n• ")
        parts.append(Bold(text=group.slug))
        parts.append(f" ({_flags(ctx, group)})")
        if channels:
            names = ", ".join(
                f"{c.name or c.chat_id} [{c.platform}]"
                + ("" if c.link is None or c.link.active else " " + ctx._("(paused)"))
                for c in channels
            )
            parts.append(" — " + names)
        else:
            parts.append(" — " + ctx._("no linked channel"))
    ctx.reply(*parts)


@subcommand(
    "group",
    "new",
    who="admin",
    help=N_("Create a group (default internal)."),
    parent_help=N_("Create groups and change their visibility and flags."),
    params=[
        Param("name", N_("the group's name")),
        Param(
            "visibility", N_("who may see it"), kind="choice", choices=VISIBILITY, required=False
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
    group = await svc.create_group(
        ctx.session,
        ctx.community.id,
        name,
        visibility or "internal",
        ctx.now,
        ctx.person_id,
        showcase=showcase,
        hostdesk=hostdesk,
    )
    await ctx.audit(
        "group.create",
        group.slug,
        visibility=group.visibility,
        showcase=showcase,
        hostdesk=hostdesk,
    )
    ctx.reply(
        *ctx.fmt(
            N_("Created group {name} ({flags}). Link a channel to it with {command}."),
            name=Bold(text=group.slug),
            flags=_flags(ctx, group),
            command=Code(text=f"/link {group.slug}"),
        )
    )


SETTINGS = (*VISIBILITY, "showcase", "hostdesk", "-showcase", "-hostdesk")


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
            choices=SETTINGS,
        ),
    ],
)
async def group_set(ctx: Context, name: str, setting: str) -> None:
    group = await svc.get_group(ctx.session, ctx.community.id, name)
    before = _flags(ctx, group)
    if setting in VISIBILITY:
        if group.visibility == setting:
            raise UserError(
                N_("The group {name} is {setting} already."),
                name=group.slug,
                setting=ctx._(setting),
            )
        group.visibility = setting
    elif setting.endswith("showcase"):
        on = not setting.startswith("-")
        if group.showcase == on:
            raise UserError(
                N_("Nothing to change: {name} is {flags}."), name=group.slug, flags=before
            )
        await svc.set_showcase(ctx.session, group, on)
    else:
        on = not setting.startswith("-")
        if group.hostdesk == on:
            raise UserError(
                N_("Nothing to change: {name} is {flags}."), name=group.slug, flags=before
            )
        group.hostdesk = on
    await ctx.session.flush()
    await ctx.audit("group.set", group.slug, setting=setting, before=before)
    ctx.reply(
        *ctx.fmt(
            N_("Group {name} is now {flags}."), name=Bold(text=group.slug), flags=_flags(ctx, group)
        )
    )
