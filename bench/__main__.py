"""The benchmark suite: ``python -m bench [--db URL] [--quick]``.

Each benchmark prints its figures and, where a floor exists, the ratio to it measured in
the same run. Figures only: the tests assert behaviour, never timings.

- ``bench.bench_commands``: commands and outbox deliveries per second through the core.
- ``bench.scale`` (P4): ``/ideas top``, ``/idea`` with its similar search, ``/vote`` and
  ``/stats`` at growing numbers of ideas, against ``/help``; the loop's longest stall.
- ``bench.relay`` (issue 17): the time from a message to its last copy, p50 and p95,
  steady and in a burst, at the platforms' own limits (``python -m bench relay``).
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
        "only", nargs="?", choices=["all", "storm", "relay"], default="all", help="only that one"
    )
    args = parser.parse_args()

    def url(name: str) -> str:
        return args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / name}"

    from bench import bench_commands, relay, scale, storm

    if args.only == "relay":
        print("== relay")
        asyncio.run(relay.main(args.db))
        return
    if args.only == "storm":
        print("== storm")
        persons, actions = (200, 1000) if args.quick else (2000, 10_000)
        asyncio.run(storm.main(args.db, persons, actions))
        return
    print("== commands and deliveries")
    asyncio.run(bench_commands.main(url("commands.db"), 100 if args.quick else 500))
    print("\n== P4 scale")
    sizes = [200, 1000] if args.quick else [1000, 10000]
    asyncio.run(scale.main(url("scale.db"), sizes, 10))
    print("\n== relay")
    asyncio.run(relay.main(args.db))
    print("\n== storm")
    persons, actions = (200, 1000) if args.quick else (2000, 10_000)
    asyncio.run(storm.main(args.db, persons, actions))


if __name__ == "__main__":
    main()
