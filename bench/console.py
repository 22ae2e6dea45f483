"""A bridge with the console adapter for the benchmarks that drive commands through the
core (``bench.statements``, ``bench.profile``): a temporary SQLite file unless a URL is
given, and a ``command(who, name, args)`` that sends one as a chat in ``#ideas`` would."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bridge.core import Bridge
    from bridge.messages import AccountRef

Command = Callable[["AccountRef", str, str], Awaitable[None]]

__all__ = ["Command", "console_bridge", "person"]


def person(name: str) -> AccountRef:
    from bridge.messages import AccountRef

    return AccountRef(platform="console", user_id=name, display_name=name)


async def console_bridge(url: str | None, name: str) -> tuple[Bridge, Command]:
    """A started bridge on ``url`` (or a temporary ``name``.db), the console attached."""
    from adapters.console import ConsoleAdapter
    from bridge.clock import Clock
    from bridge.core import Bridge
    from bridge.db import Database, upgrade
    from bridge.messages import ChannelRef, Invocation
    from tests.conftest import make_config

    db = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / f'{name}.db'}"
    await upgrade(db)
    bridge = Bridge(make_config(db), Database(db), Clock())
    await bridge.start()
    bridge.add_adapter(ConsoleAdapter(bridge))
    here = ChannelRef(platform="console", chat="#ideas")
    sent = 0

    async def command(who: AccountRef, name: str, args: str) -> None:
        nonlocal sent
        sent += 1
        await bridge.handle(
            Invocation(
                channel=here,
                account=who,
                command=name,
                args=args,
                event_id=f"e{sent}",
                channel_name="#ideas",
            )
        )

    return bridge, command
