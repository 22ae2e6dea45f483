"""The benchmark suite: ``python -m bench [--db URL] [--quick]``.

Each benchmark prints its figures and, where a floor exists, the ratio to it measured in
the same run. Figures only: the tests assert behaviour, never timings.

- ``bench.statements``: the SQL statements ``/help``, ``/vote``, ``/ideas top`` and a
  press run, against ``/help``.
- ``bench.profile``: where the CPU of ``/vote`` and a press goes (cProfile, grouped by
  package), against ``/help``.
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
- ``bench.explain``: every statement of the hot path EXPLAINed on PostgreSQL over a
  generated community, sequential scans of large tables flagged (needs ``--db``).
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
    from collections.abc import Callable, Coroutine
    from typing import Any

    from bench import (
        bench_commands,
        explain,
        fanout,
        footprint,
        profile,
        relay,
        scale,
        slack_path,
        statements,
        storm,
    )

    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--db", help="database URL (default: temporary SQLite files)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")

    def url(name: str) -> str:
        return args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / name}"

    async def explain_run() -> None:
        if not (args.db or "").startswith("postgresql"):
            print("skipped: EXPLAIN needs PostgreSQL (--db postgresql+asyncpg://...)")
            return
        await explain.main(args.db, 1000 if args.quick else 10_000)

    def storm_run() -> Coroutine[Any, Any, None]:
        persons, actions = (200, 1000) if args.quick else (2000, 10_000)
        return storm.main(args.db, persons, actions)

    #: name (for ``only``), heading, and the run, in the order ``all`` runs them
    suite: list[tuple[str, str, Callable[[], Coroutine[Any, Any, object]]]] = [
        ("statements", "statements per command", lambda: statements.main(args.db)),
        (
            "profile",
            "CPU per command",
            lambda: profile.main(args.db, 50 if args.quick else 200),
        ),
        (
            "commands",
            "commands and deliveries",
            lambda: bench_commands.main(url("commands.db"), 100 if args.quick else 500),
        ),
        ("slack", "P1 Slack path", lambda: slack_path.main(args.db)),
        (
            "scale",
            "P4 scale",
            lambda: scale.main(url("scale.db"), [200, 1000] if args.quick else [1000, 10000], 10),
        ),
        ("relay", "relay", lambda: relay.main(args.db)),
        ("fanout", "P3 fan-out", lambda: fanout.main(args.db)),
        ("footprint", "P5 footprint", lambda: footprint.main(args.db)),
        ("storm", "storm", storm_run),
        ("explain", "the hot path's plans (PostgreSQL)", explain_run),
    ]
    parser.add_argument(
        "only",
        nargs="?",
        choices=["all", *(name for name, _, _ in suite)],
        default="all",
        help="only that one",
    )
    args = parser.parse_args()
    for n, (_name, heading, run) in enumerate(
        item for item in suite if args.only in ("all", item[0])
    ):
        print(("\n" if n else "") + f"== {heading}")
        asyncio.run(run())


if __name__ == "__main__":
    main()
