"""``/outbox``: the delivery backlog for admins, and resending what failed."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bridge.errors import UsageError
from bridge.i18n import N_
from bridge.messages import Code, Part, Text
from bridge.sanitize import is_number

if TYPE_CHECKING:
    from bridge.context import Context

__all__ = ["retry", "show"]

SHOWN = 5


async def show(ctx: Context) -> None:
    """The counts by status, the oldest wait, the newest failures with their numbers."""
    outbox = ctx.bridge.outbox
    backlog = await outbox.backlog(ctx.session)
    parts: list[Part] = ctx.fmt(
        N_(
            "Outbox: {pending} waiting, {sending} being sent, {held} held for people who "
            "have not opened the private chat, {failed} failed, {dead} given up."
        ),
        **{k: str(v) for k, v in backlog.items() if k != "oldest_pending_seconds"},
    )
    if backlog["pending"]:
        parts.append(Text(text=" "))
        parts += ctx.fmt(
            N_("The oldest has waited {wait}."),
            wait=ctx.t.span(timedelta(seconds=float(backlog["oldest_pending_seconds"]))),
        )
    failures = await outbox.listing(ctx.session, failed_only=True, limit=SHOWN)
    if failures:
        parts.append(Text(text="\n" + ctx._("Newest failures:")))
        for row in failures:
            reason = (row.last_error or "").splitlines()[0][:120] if row.last_error else ""
            parts += [
                Text(text="\n  "),
                Code(text=str(row.id)),
                Text(text=f" {row.channel_key or row.platform}: {reason}"),
            ]
        parts.append(Text(text="\n"))
        parts += ctx.fmt(
            N_("Send them again with {command}."), command=Code(text="/outbox retry failed")
        )
    ctx.reply(parts, private=True)


async def retry(ctx: Context, which: str) -> None:
    if which.lower() == "failed":
        ids = None
    elif is_number(which):
        ids = [int(which)]
    else:
        raise UsageError(N_("'{word}' is not a message number or failed."), word=which[:40])
    n = await ctx.bridge.outbox.retry(ctx.session, ids)
    if n == 0:
        ctx.reply(ctx._("There is no failed message to send again."))
        return
    ctx.reply(
        *ctx.fmt(N_("{n} message(s) will be sent again."), n=str(n)),
    )
    await ctx.audit("outbox.retry", which)
