"""A command pack shipped with the echo adapter: ``/echo <text>``."""

from __future__ import annotations

from bridge.context import Context
from bridge.registry import Param, command


@command("echo", who="all", help="Say it back.", params=[Param("text", "what to say", kind="text")])
async def echo(ctx: Context, text: str) -> None:
    ctx.reply(text)
