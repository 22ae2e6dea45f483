"""The SQL statements each command runs (issue 14's lean command path): counted on the
engine while ``/help``, ``/vote``, ``/ideas top`` and a Support press go through
``Bridge.handle``/``Bridge.press`` as a chat sends them (SQLite counts its ``BEGIN``).

The floor is ``/help``: the statements every command pays before its own work (the event
id, the person, the channel with its link and group, the roles)."""

from __future__ import annotations

import asyncio
import sys


async def main(url: str | None, verbose: bool = False) -> dict[str, int]:
    from sqlalchemy import event

    from bench.console import console_bridge, person
    from bridge.messages import ActionPress, Button, ChannelRef

    bridge, command = await console_bridge(url, "statements")
    here = ChannelRef(platform="console", chat="#ideas")
    admin, bob = person("admin"), person("bob")

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
        carol = person("carol")
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
