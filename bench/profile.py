"""Where the CPU of a command goes (issue 14): ``/vote`` and a Support press through
``Bridge.handle``/``Bridge.press`` as a chat sends them, many times under cProfile, the
time grouped by where it is spent (our code, SQLAlchemy, the database driver, pydantic,
asyncio, the rest) and the functions that cost most.

    python -m bench profile [--db URL]

The floor is ``/help`` profiled the same way: what every command pays before its own
work. Figures only; the tests assert behaviour.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import time
from collections import defaultdict
from pathlib import Path

#: where a function's file lies → the part it is counted under (first match)
PARTS = (
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/aiosqlite/", "driver (aiosqlite)"),
    ("sqlite3", "driver (aiosqlite)"),
    ("/asyncpg/", "driver (asyncpg)"),
    ("/pydantic", "pydantic"),
    ("/asyncio/", "asyncio"),
    ("/bridge/", "bridge"),
    ("/commands/", "commands"),
    ("/adapters/", "adapters"),
    ("/babel/", "Babel"),
)


def _part(filename: str) -> str:
    for needle, name in PARTS:
        if needle in filename:
            return name
    return "other (stdlib, threads)"


async def main(url: str | None, runs: int = 200, top: int = 12) -> dict[str, float]:
    from bench.console import console_bridge, person
    from bridge.messages import ActionPress, Button, ChannelRef

    bridge, command = await console_bridge(url, "profile")
    here = ChannelRef(platform="console", chat="#ideas")
    admin = person("admin")

    await command(admin, "group", "new ideas")
    await command(admin, "link", "ideas")
    await command(admin, "idea", "Solar roof | on the warehouse")
    people = [person(f"p{i}") for i in range(runs)]
    token = bridge.encode_button(Button(label="Support", action="i.sup", args=("1",)), here)

    async def vote(i: int) -> None:
        await command(people[i], "vote", "I-1 up" if i % 2 else "I-1 down")

    async def press(i: int) -> None:
        await bridge.press(
            ActionPress(channel=here, account=people[i], token=token, event_id=f"p{i}")
        )

    async def help_(i: int) -> None:
        await command(people[i], "help", "")

    figures: dict[str, float] = {}
    try:
        for i in range(runs):  # every person known, the database warm
            await help_(i)
        for label, one in (("/help", help_), ("/vote", vote), ("Support press", press)):
            profile = cProfile.Profile()
            began = time.perf_counter()
            profile.enable()
            for i in range(runs):
                await one(i)
            profile.disable()
            wall = (time.perf_counter() - began) / runs * 1000
            figures[label] = wall
            stats = pstats.Stats(profile)
            own: dict[str, float] = defaultdict(float)
            total = 0.0
            raw = stats.stats  # type: ignore[attr-defined]
            for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in raw.items():
                own[_part(filename)] += tt
                total += tt
            floor = figures["/help"]
            print(
                f"{label}: {wall:.2f} ms a command under the profiler "
                f"({wall / floor:.1f}x /help), {runs} runs"
            )
            for part, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
                print(f"    {part:<24} {100 * seconds / total:5.1f} %")
            if label != "/help":
                print("    most time in (own time):")
                ranked = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
                for (filename, line, name), (_cc, nc, tt, _ct, _callers) in ranked:
                    where = "/".join(Path(filename).parts[-2:])
                    print(
                        f"      {1000 * tt / runs:6.3f} ms  {nc // runs:5d}x  {where}:{line} {name}"
                    )
    finally:
        await bridge.close()
    return figures


def cli() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.runs))


if __name__ == "__main__":
    cli()
