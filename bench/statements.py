"""The SQL statements each command runs (issue 14's lean command path): counted on the
engine while ``/help``, ``/vote``, ``/ideas top`` and a Support press go through
``Bridge.handle``/``Bridge.press`` as a chat sends them (SQLite counts its ``BEGIN``).

The floor is ``/help``: the statements every command pays before its own work (the event
id, the person, the channel with its link and group, the roles)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path


async def main(url: str | None, verbose: bool = False) -> dict[str, int]:
    from sqlalchemy import event

    from adapters.console import ConsoleAdapter
    from bridge.clock import Clock
    from bridge.core import Bridge
    from bridge.db import Database, upgrade
    from bridge.messages import AccountRef, ActionPress, Button, ChannelRef, Invocation
    from tests.conftest import make_config

    db = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'statements.db'}"
    await upgrade(db)
    bridge = Bridge(make_config(db), Database(db), Clock())
    await bridge.start()
    bridge.add_adapter(ConsoleAdapter(bridge))
    here = ChannelRef(platform="console", chat="#ideas")
    admin = AccountRef(platform="console", user_id="admin", display_name="admin")
    bob = AccountRef(platform="console", user_id="bob", display_name="bob")
    n = 0

    async def command(who: AccountRef, name: str, args: str) -> None:
        nonlocal n
        n += 1
        await bridge.handle(
            Invocation(
                channel=here,
                account=who,
                command=name,
                args=args,
                event_id=f"e{n}",
                channel_name="#ideas",
            )
        )

    await command(admin, "group", "new ideas")
    await command(admin, "link", "ideas")
    await command(bob, "idea", "Solar roof | on the warehouse")
    await command(bob, "vote", "I-1 up")
    seen: list[str] = []

    @event.listens_for(bridge.db.engine.sync_engine, "before_cursor_execute")
    def count(*args: object) -> None:
        seen.append(str(args[2]).split("\n")[0][:100])

    figures: dict[str, int] = {}
    try:
        for name, args in (("help", ""), ("vote", "I-1 down"), ("ideas", "top")):
            seen.clear()
            await command(bob, name, args)
            figures[f"/{name} {args}".strip()] = len(seen)
            if verbose:
                print("\n".join(f"    {s}" for s in seen))
        token = bridge.encode_button(Button(label="Support", action="i.sup", args=("1",)), here)
        carol = AccountRef(platform="console", user_id="carol", display_name="carol")
        await command(carol, "help", "")  # known, as nearly everyone who presses is
        seen.clear()
        await bridge.press(ActionPress(channel=here, account=carol, token=token, event_id="p1"))
        figures["Support press"] = len(seen)
        if verbose:
            print("\n".join(f"    {s}" for s in seen))
    finally:
        await bridge.close()
    floor = figures["/help"]
    for name, value in figures.items():
        print(f"{name}: {value} statements ({value / floor:.1f}x /help)")
    return figures


if __name__ == "__main__":
    asyncio.run(main(None, "-v" in sys.argv))
