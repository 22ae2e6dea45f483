"""The plans of the hot path (issue 14): every statement that ``/help``, ``/vote``, a
Support press, ``/ideas top``, ``/ideas new`` and ``/idea`` run, EXPLAINed on PostgreSQL
with the parameters they ran with, over a community of ``--ideas`` generated ideas
(``bench.scale``'s data). Each statement is printed with how PostgreSQL reads its tables:
an index (the name), or a sequential scan, flagged where the table is one that grows.

    python -m bench explain --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Plans only (``EXPLAIN`` without ``ANALYZE``, in a transaction rolled back): nothing is
written twice. Needs PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import uuid
from typing import Any

#: a sequential scan of a table with more rows than this is flagged: a missing index (a
#: smaller table is read whole because that is cheapest, which the planner knows)
LARGE = 1000


def _reads(plan: list[str], sizes: dict[str, float]) -> list[str]:
    """How the plan reads each table: ``Index Scan using ix on t`` → ``t: ix``."""
    found = []
    for line in plan:
        m = re.search(
            r"(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan)(?: Backward)?"
            r"(?: using (\S+))? on (\S+)",
            line,
        )
        if m is None:
            m2 = re.search(r"Bitmap Index Scan on (\S+)", line)
            if m2:
                found.append(f"(bitmap {m2.group(1)})")
            continue
        kind, index, table = m.groups()
        if kind == "Seq Scan":
            rows = sizes.get(table, 0)
            flag = f"  <-- SEQUENTIAL over {rows:,.0f} rows" if rows > LARGE else ""
            found.append(f"{table}: sequential{flag}")
        elif kind == "Bitmap Heap Scan":
            found.append(f"{table}: bitmap")
        else:
            found.append(f"{table}: {index}")
    return found


async def main(url: str, ideas: int = 10_000) -> int:
    from sqlalchemy import event, func, select, text

    from bench.scale import TITLE_PROBE, WORDS, _fill, scale_bridge
    from bridge.messages import AccountRef, ActionPress, Button, ChannelRef, Invocation
    from bridge.models import Account, Group

    if not url.startswith("postgresql"):
        raise SystemExit("bench explain needs PostgreSQL: --db postgresql+asyncpg://...")
    bridge = await scale_bridge(url)
    here = ChannelRef(platform="console", chat="#ideas")
    admin = AccountRef(platform="console", user_id="admin0", display_name="admin")
    bob = AccountRef(platform="console", user_id="bob", display_name="bob")
    n = 0
    run_id = uuid.uuid4().hex[:8]  # event ids of their own on a database used before

    async def command(who: AccountRef, name: str, args: str) -> None:
        nonlocal n
        n += 1
        await bridge.handle(
            Invocation(
                channel=here, account=who, command=name, args=args, event_id=f"x{n}-{run_id}"
            )
        )

    async with bridge.db.transaction() as s:
        group_id = (await s.execute(select(Group.id).where(Group.slug == "ideas"))).scalar()
    if group_id is None:
        await command(admin, "group", "new ideas")
        await command(admin, "link", "ideas")
        async with bridge.db.transaction() as s:
            group_id = (await s.execute(select(Group.id).where(Group.slug == "ideas"))).scalar()
        await _fill(bridge, group_id, 1, ideas, 10)
    async with bridge.db.transaction() as s:
        accounts = (await s.execute(select(func.count()).select_from(Account))).scalar_one()
    if accounts < 20_000:  # a community's people: 20,000 persons, each with an account
        await _people(bridge, 20_000 - accounts)
    await command(bob, "help", "")  # bob is known: the hot path
    async with bridge.db.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
        sizes = {
            str(name): float(rows)
            for name, rows in (
                await conn.execute(
                    text("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
                )
            ).all()
        }
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    token = bridge.encode_button(Button(label="Support", action="i.sup", args=("1",)), here)
    probe = f"{TITLE_PROBE} | {' '.join(WORDS[:6])}"
    runs: list[tuple[str, Any]] = [
        ("/help", lambda: command(bob, "help", "")),
        ("/vote", lambda: command(bob, "vote", f"I-{ideas // 2}")),
        (
            "Support press",
            lambda: bridge.press(
                ActionPress(channel=here, account=bob, token=token, event_id=f"p{n}-{run_id}")
            ),
        ),
        ("/ideas top", lambda: command(bob, "ideas", "top")),
        ("/ideas new", lambda: command(bob, "ideas", "new")),
        ("/idea (similar)", lambda: command(bob, "idea", probe)),
    ]
    sequential = 0
    engine = bridge.db.engine.sync_engine
    try:
        for label, run in runs:
            seen.clear()
            event.listen(engine, "before_cursor_execute", record)
            try:
                await run()
            finally:
                event.remove(engine, "before_cursor_execute", record)
            print(f"{label}: {len(seen)} statements")
            for statement, parameters in seen:
                head = " ".join(statement.split())[:90]
                if not re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)", statement, re.I):
                    print(f"    {head}")
                    continue
                if isinstance(parameters, list) and parameters:  # executemany: the first row
                    parameters = parameters[0]
                async with bridge.db.engine.connect() as conn:
                    result = await conn.exec_driver_sql(
                        "EXPLAIN " + statement, tuple(parameters or ())
                    )
                    plan = [str(r[0]) for r in result.all()]
                    await conn.rollback()
                reads = _reads(plan, sizes)
                sequential += sum("SEQUENTIAL" in r for r in reads)
                print(f"    {head}")
                for r in reads:
                    print(f"        {r}")
            print()
    finally:
        await bridge.close()
    print(f"sequential scans of tables over {LARGE:,} rows on the hot path: {sequential}")
    return sequential


async def _people(bridge: Any, count: int) -> None:
    """``count`` more persons with a console account each, and a host role for every
    tenth (bulk inserts)."""
    from sqlalchemy import insert

    from bridge.models import Account, Person, RoleGrant

    now = bridge.now()
    cid = bridge.community_id
    async with bridge.db.transaction() as s:
        ids = (
            (
                await s.execute(
                    insert(Person).returning(Person.id),
                    [
                        {"community_id": cid, "display_name": f"m{i}", "created_at": now}
                        for i in range(count)
                    ],
                )
            )
            .scalars()
            .all()
        )
        await s.execute(
            insert(Account),
            [
                {
                    "person_id": p,
                    "platform": "console",
                    "user_id": f"m{p}",
                    "display_name": f"m{p}",
                    "dm_open": True,
                    "created_at": now,
                    "last_seen_at": now,
                }
                for p in ids
            ],
        )
        await s.execute(
            insert(RoleGrant),
            [
                {"person_id": p, "role": "host", "group_id": None, "granted_at": now}
                for p in ids[::10]
            ],
        )


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explain")
    parser.add_argument("--db", required=True, help="a PostgreSQL database URL")
    parser.add_argument("--ideas", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.ideas))


if __name__ == "__main__":
    cli()
