"""P4 scale: server time of commands as the community grows, and the loop's responsiveness.

    python -m bench.scale [--db URL] [--sizes 1000,10000] [--votes-per-idea 10]

For each size the database gets that many ideas (with their search terms) and votes,
generated in bulk; then each command runs through the core as a chat would send it
(``Bridge.handle``), several times, and the median is printed, with the ratio to
``/help`` measured in the same run (the floor: a command that touches almost nothing)
and, from the second size on, the growth against the first size. While ``/idea`` searches
the largest set for similar ideas, a probe on the same event loop records the longest
stall. Figures only; the tests assert behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select, text, update

from bridge.config import Config
from bridge.core import Bridge
from bridge.db import insert_ignore, upgrade
from bridge.messages import AccountRef, ChannelRef, Invocation
from bridge.models import Counter, Group, Person
from bridge.models.ideas import Idea, IdeaVote
from bridge.models.search import SearchTerm
from bridge.search import terms_of

WORDS = (
    "Lieferung Lager Fahrrad Dienstrad Kantine Kaffee Parkplatz Schicht Urlaub Schulung "
    "Werkzeug Maschine Wartung Drucker Laptop Homeoffice Zeiterfassung Sicherheit Brandschutz "
    "Energie Heizung Beleuchtung Solar Recycling Verpackung Kunde Angebot Rechnung Reklamation "
    "delivery warehouse bike canteen coffee parking shift training tools printer laptop "
    "security energy lighting recycling packaging customer invoice complaint feedback"
).split()
RUNS = 7


def _title(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 4)).capitalize()


async def _fill(bridge: Bridge, group_id: int, start: int, count: int, votes: int) -> None:
    """``count`` more ideas numbered from ``start``, with terms and ``votes`` votes each."""
    rng = random.Random(start)
    now = bridge.now()
    cid = bridge.community_id
    async with bridge.db.transaction() as s:
        persons = list(
            (await s.execute(select(Person.id).where(Person.community_id == cid))).scalars()
        )
        while len(persons) < max(votes, 1) + 1:
            result = await s.execute(
                insert(Person).values(community_id=cid, display_name="p", created_at=now)
            )
            persons.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
    batch = 1000
    for first in range(start, start + count, batch):
        rows = []
        for n in range(first, min(first + batch, start + count)):
            rows.append(
                {
                    "community_id": cid,
                    "group_id": group_id,
                    "number": n,
                    "title": _title(rng),
                    "description": " ".join(rng.sample(WORDS, 8)),
                    "proposer_id": persons[0],
                    "status": "new",
                    "score": votes,  # every generated vote is a +1
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with bridge.db.transaction() as s:
            ids = (
                await s.execute(insert(Idea).returning(Idea.id, Idea.title, Idea.description), rows)
            ).all()
            terms = [
                {"kind": "idea", "item_id": i, "term": t}
                for i, title, description in ids
                for t in sorted(terms_of(title, description))
            ]
            await s.execute(insert(SearchTerm), terms)
            if votes:
                await s.execute(
                    insert(IdeaVote),
                    [
                        {
                            "idea_id": i,
                            "person_id": p,
                            "value": 1,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i, _t, _d in ids
                        for p in rng.sample(persons[1:], votes)
                    ],
                )
    async with bridge.db.transaction() as s:  # the next /idea is numbered after them
        await s.execute(
            insert_ignore(
                s,
                Counter,
                {"community_id": cid, "kind": "idea", "value": 0},
                ["community_id", "kind"],
            )
        )
        await s.execute(
            update(Counter)
            .where(Counter.community_id == cid, Counter.kind == "idea")
            .values(value=start + count - 1)
        )
    if not bridge.db.is_sqlite:  # a bulk load: give the planner the statistics that
        async with bridge.db.engine.connect() as conn:  # autovacuum would in a while
            await conn.execute(text("ANALYZE"))
            await conn.commit()


async def _time(bridge: Bridge, command: str, args: str, voters: bool = False) -> float:
    """The median seconds of ``RUNS`` runs of one command (each with its own event id), by
    the admin, or by a new person each run (``voters``: every vote a first one)."""
    here = ChannelRef(platform="console", chat="#ideas")
    taken = []
    for run in range(RUNS):
        user = f"voter{run}" if voters else "admin0"
        inv = Invocation(
            channel=here,
            account=AccountRef(platform="console", user_id=user, display_name=user),
            command=command,
            args=args,
            event_id=f"{command}-{args}-{run}-{time.monotonic_ns()}",
        )
        started = time.perf_counter()
        await bridge.handle(inv)
        taken.append(time.perf_counter() - started)
    return statistics.median(taken)


async def _loop_stall(bridge: Bridge, command: str, args: str) -> float:
    """The longest the loop was held up while ``command`` ran (a probe every 5 ms)."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.005)
            stalls.append(loop.time() - before - 0.005)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0.02)
    await _time(bridge, command, args)
    done.set()
    await task
    return max(stalls)


async def scale_bridge(url: str) -> Bridge:
    """A started bridge on ``url`` whose admin is ``console:admin0``, sending unshaped."""
    await upgrade(url)
    config = Config.model_validate(
        {
            "community": {"admins": ["console:admin0"]},
            "database": {"url": url},
            "delivery": {"shaping": False},
        }
    )
    bridge = Bridge(config)
    await bridge.start()
    return bridge


async def main(url: str, sizes: list[int], votes: int) -> None:
    bridge = await scale_bridge(url)
    here = ChannelRef(platform="console", chat="#ideas")
    admin = AccountRef(platform="console", user_id="admin0", display_name="admin")
    await bridge.handle(Invocation(channel=here, account=admin, command="group", args="new ideas"))
    await bridge.handle(Invocation(channel=here, account=admin, command="link", args="ideas"))
    async with bridge.db.transaction() as s:
        group_id = (await s.execute(select(Group.id).where(Group.slug == "ideas"))).scalar_one()
    print(f"P4 scale on {url.split(':')[0]}, {votes} votes per idea, median of {RUNS} runs")
    print(f"{'ideas':>8} {'command':<16} {'ms':>9} {'x /help':>8} {'x first size':>13}")
    first: dict[str, float] = {}
    have = 0
    probe = ""
    for size in sizes:
        await _fill(bridge, group_id, have + 1, size - have, votes)
        have = size
        floor = await _time(bridge, "help", "")
        probe = f"{TITLE_PROBE} | {' '.join(WORDS[:6])}"
        figures: dict[str, float] = {
            "/help": floor,
            "/ideas top": await _time(bridge, "ideas", "top"),
            "/idea (similar)": await _time(bridge, "idea", probe),
            "/vote": await _time(bridge, "vote", f"I-{size // 2}", voters=True),
            "/stats": await _time(bridge, "stats", ""),
        }
        for name, seconds in figures.items():
            growth = f"{seconds / first[name]:13.2f}" if name in first else f"{'':>13}"
            print(f"{size:>8} {name:<16} {seconds * 1000:9.1f} {seconds / floor:8.1f} {growth}")
            first.setdefault(name, seconds)
    stall = await _loop_stall(bridge, "idea", probe)
    print(f"longest loop stall during /idea at {have} ideas: {stall * 1000:.1f} ms")
    await bridge.close()


TITLE_PROBE = "Dienstfahrräder und Lieferungen ins Lager"


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--sizes", default="1000,10000", help="idea counts, ascending")
    parser.add_argument("--votes-per-idea", type=int, default=10)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    url = args.db or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'scale.db'}"
    asyncio.run(main(url, sizes, args.votes_per_idea))


if __name__ == "__main__":
    cli()
