"""``/status`` and ``/promote``: hosts move ideas through their lifecycle and into the showcase.

Declarations only: the use cases live in ``bridge/services/ideas.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command
from bridge.services import ideas as svc
from commands.ideas import IDEA_PARAM


@command(
    "status",
    who="host",
    help=N_(
        "Move an idea: new, review, shortlisted, project, done or rejected. Its proposer "
        "and supporters are told."
    ),
    params=[
        IDEA_PARAM,
        Param("status", N_("the new status"), kind="choice", choices=svc.STATUSES),
        Param(
            "reason", N_("why (shown on the card and to supporters)"), kind="text", required=False
        ),
    ],
)
async def status(ctx: Context, idea: str, status: str, reason: str | None) -> None:
    await svc.change_status(ctx, idea, status, reason)


@command(
    "promote",
    who="host",
    help=N_("Show an idea in the community's showcase group."),
    params=[IDEA_PARAM],
)
async def promote(ctx: Context, idea: str) -> None:
    await svc.promote(ctx, idea)
