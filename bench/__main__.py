"""The benchmark suite: ``python -m bench [--db URL] [--quick]``.

Each benchmark prints its figures and, where a floor exists, the ratio to it measured in
the same run. Figures only: the tests assert behaviour, never timings.

- ``bench.statements``: the SQL statements ``/help``, ``/vote``, ``/ideas top`` and a
  press run, against ``/help``.
- ``bench.slack_path`` (P1): signed ``/vote`` slash commands through Bolt into a real
  ``run`` process, against a bare slack-bolt AsyncApp that only acks; ack latency at
  half the bot's rate.
- ``bench.bench_commands``: commands and outbox deliveries per second through the core.
- ``bench.scale`` (P4): ``/ideas top``, ``/idea`` with its similar search, ``/vote`` and
  ``/stats`` at growing numbers of ideas, against ``/help``; the loop's longest stall.
- ``bench.relay`` (issue 17): the time from a message to its last copy, p50 and p95,
  steady and in a burst, at the platforms' own limits (``python -m bench relay``).
- ``bench.fanout`` (P3): one idea to 10 linked channels on the three fakes, command to
  the last post, against one message sent straight through an adapter.
- ``bench.footprint`` (P5): one ``run`` with three adapters against the fakes: start to
  ready and resident memory, against a process that only imports the SDKs.
- ``bench.storm`` (issue 12): a vote storm through the three platform fakes with two bot
  processes on PostgreSQL, one killed mid-storm (needs PostgreSQL; ``python -m bench
  storm`` runs it alone).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--db", help="database URL (default: temporary SQLite files)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "only",
        nargs="?",
        choices=["all", "storm", "relay", "footprint", "fanout", "statements", "slack"],
        default="all",
        help="only that one",
    )
    args = parser.parse_args()

    def url(name: str) -> str:
        return args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / name}"

    from bench import (
        bench_commands,
        fanout,
        footprint,
        relay,
        scale,
        slack_path,
        statements,
        storm,
    )

    if args.only == "slack":
        print("== P1 Slack path")
        asyncio.run(slack_path.main(args.db))
        return
    if args.only == "statements":
        print("== statements per command")
        asyncio.run(statements.main(args.db))
        return
    if args.only == "fanout":
        print("== P3 fan-out")
        asyncio.run(fanout.main(args.db))
        return
    if args.only == "footprint":
        print("== P5 footprint")
        asyncio.run(footprint.main(args.db))
        return
    if args.only == "relay":
        print("== relay")
        asyncio.run(relay.main(args.db))
        return
    if args.only == "storm":
        print("== storm")
        persons, actions = (200, 1000) if args.quick else (2000, 10_000)
        asyncio.run(storm.main(args.db, persons, actions))
        return
    print("== statements per command")
    asyncio.run(statements.main(args.db))
    print("\n== commands and deliveries")
    asyncio.run(bench_commands.main(url("commands.db"), 100 if args.quick else 500))
    print("\n== P1 Slack path")
    asyncio.run(slack_path.main(args.db))
    print("\n== P4 scale")
    sizes = [200, 1000] if args.quick else [1000, 10000]
    asyncio.run(scale.main(url("scale.db"), sizes, 10))
    print("\n== relay")
    asyncio.run(relay.main(args.db))
    print("\n== P3 fan-out")
    asyncio.run(fanout.main(args.db))
    print("\n== P5 footprint")
    asyncio.run(footprint.main(args.db))
    print("\n== storm")
    persons, actions = (200, 1000) if args.quick else (2000, 10_000)
    asyncio.run(storm.main(args.db, persons, actions))


if __name__ == "__main__":
    main()
