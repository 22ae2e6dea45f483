"""``/connect``: join this chat account to the same person's account on another platform.

Declarations only: the use cases live in ``bridge/services/identity.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command, subcommand
from bridge.services import identity


@command(
    "connect",
    who="all",
    help=N_("Join your accounts on several platforms, so you count as one person."),
    params=[
        Param("code", N_("the code you got from /connect on your other account"), required=False)
    ],
)
async def connect(ctx: Context, code: str | None) -> None:
    await identity.connect(ctx, code)


@subcommand(
    "connect",
    "undo",
    who="all",
    help=N_("Separate this account from the others again."),
)
async def connect_undo(ctx: Context) -> None:
    await identity.connect_undo(ctx)


@command(
    "notify",
    who="all",
    help=N_("Your private notifications (status changes, answers, reminders): on, off or digest."),
    params=[
        Param(
            "setting",
            N_("on (as they happen), off, or digest (once a day)"),
            kind="choice",
            choices=identity.NOTIFY,
            required=False,
        )
    ],
)
async def notify(ctx: Context, setting: str | None) -> None:
    await identity.notify(ctx, setting)


@command(
    "mentions",
    who="all",
    help=N_("Whether a mention of you, relayed from another platform, may ping you: on or off."),
    params=[
        Param(
            "setting",
            N_("on (a real mention where you have an account) or off (your name only)"),
            kind="choice",
            choices=("on", "off"),
            required=False,
        )
    ],
)
async def mentions(ctx: Context, setting: str | None) -> None:
    await identity.relay_mentions(ctx, setting)
