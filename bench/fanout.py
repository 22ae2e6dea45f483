"""P3 fan-out (issue 14): one idea to 10 linked channels (4 on Slack, 3 on Telegram, 3 on
Discord) through the three platform fakes at the platforms' own limits and the real SDKs:
p50 and p95 from the command to the card's last post. One idea every 4 s: a Telegram
group takes 20 messages a minute from a bot, so faster ideas would measure that limit.

The floor, measured in the same run: one plain message sent straight through each
adapter (no command, no outbox), the slowest of the three platforms.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


async def main(url: str | None, ideas: int = 15, every: float = 4.0) -> None:
    from bridge.clock import Clock
    from bridge.core import Bridge
    from bridge.db import Database, upgrade
    from bridge.messages import AccountRef, ChannelRef, Invocation, Message, Text
    from tests.adapters.test_relay import ADMINS, GROUP, Env
    from tests.conftest import make_config

    db = url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'fanout.db'}"
    await upgrade(db)
    made: list[Bridge] = []

    async def make_bridge(**sections: Any) -> Bridge:
        bridge = Bridge(make_config(db, **sections), Database(db), Clock())
        await bridge.start()
        made.append(bridge)
        return bridge

    env = Env(make_bridge, speed=1)
    await env.start_fakes()
    slack = ["C1", "C2", "C3", "C4"]
    for channel in slack[2:]:
        env.slack.add_channel(channel, channel.lower())
    telegram = [str(GROUP), "-200", "-300"]
    env.tg.group(-300, "Retail")
    guild = next(iter(env.discord.guilds))
    discord = [env.dc_lobby, env.dc_wholesale, env.discord.add_channel(guild, "trades")]
    await env.start_bot()
    bridge = env.bridge
    assert bridge is not None
    stop = asyncio.Event()
    worker = asyncio.create_task(bridge.outbox.run(stop))
    try:
        await env.admin("slack", "C1", "group", "new lobby")
        for platform, chats in (("slack", slack), ("telegram", telegram), ("discord", discord)):
            for chat in chats:
                await env.admin(platform, chat, "link", "lobby")
        await asyncio.sleep(3)  # the link notices out of the way of the chats' allowances

        def shown(text: str) -> int:
            n = sum(any(text in p.text for p in env.slack.posted(c)) for c in slack)
            n += sum(
                any(text in str(m.get("text", "")) for m in env.tg.messages_in(int(c)))
                for c in telegram
            )
            n += sum(
                any(text in str(m.get("content", "")) for m in env.discord.channel_messages(c))
                for c in discord
            )
            return n

        async def everywhere(text: str, began: float) -> float:
            while shown(text) < 10:  # noqa: ASYNC110 (the fakes signal nothing)
                await asyncio.sleep(0.01)
            return time.monotonic() - began

        floor = []
        for n in range(5):
            slowest = 0.0
            for platform, chat in (("slack", "C4"), ("telegram", "-300"), ("discord", discord[2])):
                began = time.monotonic()
                await bridge.adapters[platform].send(
                    ChannelRef(platform=platform, chat=chat),
                    Message(parts=(Text(text=f"floor {n}"),)),
                )
                slowest = max(slowest, time.monotonic() - began)
            floor.append(slowest)
            await asyncio.sleep(1.2)
        base = statistics.median(floor)

        times: list[asyncio.Task[float]] = []
        admin = AccountRef(platform="slack", user_id=ADMINS["slack"], display_name="Ada")
        # titles that share no word: an idea like an earlier one would be asked about
        # ("these ideas look like yours") instead of posted
        rng = random.Random(7)

        def word() -> str:
            return "".join(rng.choice("bcdfghklmnprstvwz") + rng.choice("aeiou") for _ in range(4))

        titles = [f"{word().title()} {word()} {word()}" for _ in range(ideas)]
        for n in range(ideas):
            began = time.monotonic()
            await bridge.handle(
                Invocation(
                    channel=ChannelRef(platform="slack", chat="C1"),
                    account=admin,
                    command="idea",
                    args=titles[n],
                    channel_name="#lobby",
                )
            )
            times.append(asyncio.create_task(everywhere(titles[n], began)))
            await asyncio.sleep(every)
        values = sorted(await asyncio.gather(*times))
    finally:
        stop.set()
        bridge.outbox.kick()
        await worker
        await env.close()
        for made_bridge in made:
            await made_bridge.close()
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    print(
        f"floor (one message straight through an adapter, slowest platform): {base * 1000:.0f} ms"
    )
    print(
        f"one idea to 10 channels, command to the last post ({ideas} ideas, one every "
        f"{every:.0f} s): "
        f"p50 {p50 * 1000:.0f} ms = {p50 / base:.1f}x the floor, "
        f"p95 {p95 * 1000:.0f} ms = {p95 / base:.1f}x (goal p95 150 ms)"
    )
