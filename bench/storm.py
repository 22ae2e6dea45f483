"""The vote storm of issue 12 as a benchmark (``python -m bench storm``): 2,000 persons,
10,000 vote actions on one idea in six channels on the three platform fakes (at the
platforms' own limits), two bot processes on PostgreSQL, one killed with SIGKILL mid-storm
and restarted (tests/storm.py is the harness; tests/bridge/test_storm.py asserts what
people see).

Prints: vote actions processed per second; the most messages and edits each fake saw in
one chat within its limit's window (must stay within the limit); the time from the last
vote until every card shows the final count (goal: 2 s where the allowance permits); and
the answer time of an action, p50 and p95, as a ratio to the floor: the idle bots' answer
to ``/help`` in Slack, measured in the same run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

LIMITS = {"slack": (1, 1.0), "telegram": (20, 60.0), "discord": (5, 5.0)}


async def _database(url: str | None) -> str | None:
    import asyncpg

    url = url or "postgresql+asyncpg://postgres@127.0.0.1:5432/cb_bench_storm"
    if not url.startswith("postgresql"):
        return None
    base, _, name = url.replace("+asyncpg", "").rpartition("/")
    try:
        conn = await asyncpg.connect(f"{base}/postgres", timeout=5)
    except Exception as exc:
        print(f"storm: PostgreSQL not reachable ({exc!r}); skipped")
        return None
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url


async def main(url: str | None, persons: int, actions: int) -> None:
    from tests.storm import Storm

    db = await _database(url)
    if db is None:
        print("storm: needs PostgreSQL (--db postgresql+asyncpg://...); skipped")
        return
    storm = Storm(db, Path(tempfile.mkdtemp()), persons=persons, actions=actions)
    try:
        await storm.start()
        await storm.prepare()
        floor = []  # one answer of the idle bots (/help, which changes nothing), a few times
        for channel in ("C1", "C2", "C1"):
            began = time.monotonic()
            await storm.slack_command("UADMIN", channel, "/help", "")
            floor.append(time.monotonic() - began)
        result = await storm.run()
    finally:
        await storm.close()
    base = min(floor)
    ordered = sorted(storm.latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(f"{result.persons} persons, {result.actions} vote actions in {result.seconds:.1f} s")
    print(f"  vote actions per second: {result.actions / result.seconds:.0f}")
    print(f"  answer time p50 {p50 * 1000:.0f} ms = {p50 / base:.1f}x the idle floor")
    print(f"  answer time p95 {p95 * 1000:.0f} ms = {p95 / base:.1f}x the idle floor")
    print(f"  actions repeated by people (no answer): {result.repeats}")
    for platform, most in result.most_edits.items():
        count, per = LIMITS[platform]
        print(
            f"  {platform}: at most {most} messages and edits in one chat within {per:g} s "
            f"(limit {count}), {most / per:.2f} per second"
        )
    print(f"  last vote until every card shows the final count: {result.settle_seconds:.1f} s")
    refused = sum(len(v) for v in result.refusals.values())
    print(f"  refused by a platform for a limit: {refused}")
    print(
        f"  votes stored {result.stored} of {result.expected} expected; cards "
        f"{sorted(set(result.shown.values()))}"
    )
