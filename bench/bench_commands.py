"""Throughput of the core: commands and outbox deliveries per second through the console.

    python bench/bench_commands.py [--db URL] [--n 500]

Timings live here, never in the tests. Default database: a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from adapters.console import ConsoleAdapter
from bridge.config import Config
from bridge.core import Bridge
from bridge.db import upgrade
from bridge.messages import AccountRef, ChannelRef, Invocation, Message, Text


async def main(url: str, n: int) -> None:
    await upgrade(url)
    config = Config.model_validate(
        {
            "community": {"admins": ["console:admin"]},
            "database": {"url": url},
        }
    )
    bridge = Bridge(config)
    await bridge.start()
    printed: list[str] = []
    console = ConsoleAdapter(bridge, out=printed.append)
    console.state = "ready"
    bridge.add_adapter(console)
    await console.line("/group new bench")
    await console.line("/link bench")

    def inv(i: int) -> Invocation:
        return Invocation(
            channel=ChannelRef(platform="console", chat="#general"),
            account=AccountRef(platform="console", user_id=f"u{i % 50}"),
            command="groups",
            event_id=f"e{i}",
        )

    start = time.perf_counter()
    for i in range(n):
        await bridge.handle(inv(i))
    took = time.perf_counter() - start
    print(f"sequential /groups: {n / took:8.1f} commands/s ({took * 1000 / n:.2f} ms each)")

    start = time.perf_counter()
    await asyncio.gather(*(bridge.handle(inv(n + i)) for i in range(n)))
    took = time.perf_counter() - start
    print(f"concurrent /groups: {n / took:8.1f} commands/s")

    async with bridge.db.transaction() as session:
        for i in range(n):
            await bridge.outbox.post(
                session, "console:#general", Message(parts=(Text(text=f"m{i}"),))
            )
    start = time.perf_counter()
    sent = await bridge.outbox.drain(max_passes=1000)
    took = time.perf_counter() - start
    print(f"outbox delivery:    {sent / took:8.1f} messages/s ({sent} sent)")
    await bridge.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    url = args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    asyncio.run(main(url, args.n))
