"""``/link`` and ``/unlink``: which group's content a channel shows."""

from __future__ import annotations

from bridge.context import Context
from bridge.errors import UserError
from bridge.i18n import N_
from bridge.messages import Bold
from bridge.registry import Param, command
from bridge.services import groups as svc


def _channel(ctx: Context):  # type: ignore[no-untyped-def]
    if ctx.channel is None:
        raise UserError(N_("Private chats cannot be linked; use /link in a channel or group."))
    return ctx.channel


@command(
    "link",
    who="admin",
    help=N_("Link this channel to a group: the group's content is shown here."),
    params=[Param("group", N_("the group's name"))],
)
async def link(ctx: Context, group: str) -> None:
    channel = _channel(ctx)
    target = await svc.get_group(ctx.session, ctx.community.id, group)
    current = ctx.link
    if current is not None and current.group_id == target.id and current.active:
        raise UserError(N_("This channel is linked to {group} already."), group=target.slug)
    before = current.group_id if current is not None else None
    await svc.link_channel(ctx.session, channel, target, ctx.person_id, ctx.now)
    await ctx.audit("channel.link", channel.key, group=target.slug)
    if before is not None and before != target.id:
        ctx.say(
            *ctx.fmt(
                N_("This channel now shows the group {group} (it showed another group before)."),
                group=Bold(text=target.slug),
            )
        )
    else:
        ctx.say(
            *ctx.fmt(
                N_(
                    "This channel is now linked to the group {group}. Type /help to "
                    "see what you can do here."
                ),
                group=Bold(text=target.slug),
            )
        )


@command("unlink", who="admin", help=N_("Remove this channel's link to its group."))
async def unlink(ctx: Context) -> None:
    channel = _channel(ctx)
    group = await svc.unlink_channel(ctx.session, channel)
    if group is None:
        raise UserError(N_("This channel is not linked to a group."))
    await ctx.audit("channel.unlink", channel.key, group=group.slug)
    ctx.say(
        *ctx.fmt(N_("This channel no longer shows the group {group}."), group=Bold(text=group.slug))
    )
