"""``/stats``: activity, super users, answer times and the idea funnel, for hosts.

Declarations only: the use cases live in ``bridge/services/stats.py``.
"""

from __future__ import annotations

from bridge.context import Context
from bridge.i18n import N_
from bridge.registry import Param, command
from bridge.services import stats as svc


@command(
    "stats",
    who="host",
    help=N_("Activity, super users, answer times and the idea funnel (default: 30 days)."),
    params=[Param("period", N_("how far back, e.g. 7d or 90d"), required=False, metavar="period")],
)
async def stats(ctx: Context, period: str | None) -> None:
    await svc.stats(ctx, period)
