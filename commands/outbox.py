"""``/outbox``: what the bot has not delivered yet, and resending what failed (admins).

Declarations only: the use cases live in ``bridge/services/delivery.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command, subcommand
from bridge.services import delivery as svc


@command(
    "outbox",
    who="admin",
    help=N_("Messages waiting, failed or given up, and the oldest wait (admins)."),
)
async def outbox(ctx: Context) -> None:
    await svc.show(ctx)


@subcommand(
    "outbox",
    "retry",
    who="admin",
    help=N_("Send a failed message again, or every failed one."),
    params=[Param("which", N_("a message's number, or failed"), metavar="number|failed")],
)
async def outbox_retry(ctx: Context, which: str) -> None:
    await svc.retry(ctx, which)
