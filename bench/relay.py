"""The relay (issue 17) as a benchmark: the time from a member's message until its last
copy is shown on the other two platforms, p50 and p95, through the three platform fakes at
the platforms' own limits and the real SDKs (tests/adapters/test_relay.py's world).

- steady: messages from Slack, Telegram and Discord in turn, one every 1.5 s;
- burst: 30 messages at once in one Slack channel (Telegram lets a bot post 20 a minute
  in a group: the burst is delayed there, never dropped or reordered).

The floor is one message's time on the idle bridge, measured in the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SLACK = "slack"


async def main(url: str | None) -> None:
    from bridge.clock import Clock
    from bridge.core import Bridge
    from bridge.db import Database, upgrade
    from tests.adapters.test_relay import GROUP, Env
    from tests.conftest import make_config

    db = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'relay.db'}"
    await upgrade(db)
    made: list[Bridge] = []

    async def make_bridge(**sections: Any) -> Bridge:
        bridge = Bridge(make_config(db, **sections), Database(db), Clock())
        await bridge.start()
        made.append(bridge)
        return bridge

    env = Env(make_bridge, speed=1)
    await env.start_fakes()
    await env.start_bot()
    stop = asyncio.Event()
    assert env.bridge is not None
    worker = asyncio.create_task(env.bridge.outbox.run(stop))
    try:
        await env.admin("slack", "C1", "group", "new lobby")
        for platform, chat in (
            ("slack", "C1"),
            ("telegram", str(GROUP)),
            ("discord", env.dc_lobby),
        ):
            await env.admin(platform, chat, "link", "lobby")
        await env.admin("slack", "C1", "group", "set lobby relay")
        await asyncio.sleep(3)  # the notices out of the way of the chats' allowances

        def arrived(text: str, origin: str) -> bool:
            places = {
                "slack": any(text in t for _, t in env.slack_shown()),
                "telegram": any(text in t for t in env.telegram_shown()),
                "discord": any(text in t for t in env.discord_shown(env.dc_lobby)),
            }
            return all(seen for where, seen in places.items() if where != origin)

        async def say(origin: str, text: str) -> None:
            if origin == "slack":
                assert env.sender is not None
                event = {"type": "message", "channel": "C1", "channel_type": "channel"}
                await env.sender.event({**event, "user": "U1", "text": text, "ts": _ts()})
            elif origin == "telegram":
                env.tg.text(env.tom, env.tg.chats[GROUP], text)
            else:
                await env.discord.member_says(env.dc_lobby, env.dave, text)

        async def timed(origin: str, text: str, began: float) -> float:
            while not arrived(text, origin):  # noqa: ASYNC110 (the fakes signal nothing)
                await asyncio.sleep(0.02)
            return time.monotonic() - began

        floor = []
        for n, origin in enumerate(("slack", "telegram", "discord")):
            began = time.monotonic()
            await say(origin, f"floor {n}")
            floor.append(await timed(origin, f"floor {n}", began))
            await asyncio.sleep(1.5)
        base = statistics.median(floor)

        steady: list[asyncio.Task[float]] = []
        for n in range(21):
            origin = ("slack", "telegram", "discord")[n % 3]
            began = time.monotonic()
            await say(origin, f"steady {n}")
            steady.append(asyncio.create_task(timed(origin, f"steady {n}", began)))
            await asyncio.sleep(1.5)
        steady_times = sorted(await asyncio.gather(*steady))

        began = time.monotonic()
        for n in range(30):
            await say("slack", f"burst {n}")
        burst_times = sorted(
            await asyncio.gather(*(timed("slack", f"burst {n}", began) for n in range(30)))
        )
    finally:
        stop.set()
        env.bridge.outbox.kick()
        await worker
        await env.close()
        for bridge in made:
            await bridge.close()

    def p(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    print(f"idle floor (one message to its last copy): {base * 1000:.0f} ms")
    for name, values in (("steady, one every 1.5 s", steady_times), ("burst of 30", burst_times)):
        p50, p95 = statistics.median(values), p(values, 0.95)
        print(
            f"  {name}: p50 {p50 * 1000:.0f} ms = {p50 / base:.1f}x the floor, "
            f"p95 {p95 * 1000:.0f} ms = {p95 / base:.1f}x"
        )
    refused = len(env.tg.limit_refusals) + len(
        env.discord.allowance.refusals if env.discord.allowance else []
    )
    print(f"  refused by a platform for a limit: {refused}")


_n = 0


def _ts() -> str:
    global _n
    _n += 1
    return f"1720000000.{_n:06d}"
