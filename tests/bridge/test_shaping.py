"""The shaper's windows: no reservation it hands out breaks a limit, however the chats'
messages interleave."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

from bridge.shaping import MARGIN, Limit, Shaper

SLACK = 0.01  # the calls' own clock readings differ by microseconds


async def test_no_window_ever_holds_more_than_its_limit() -> None:
    limits = (Limit(1, 1.0), Limit(5, 10.0, "group"), Limit(8, 2.0, "all"))
    shaper = Shaper({"t": limits})
    rng = random.Random(3)
    slots: list[tuple[str, float]] = []
    for _ in range(120):
        chat = rng.choice(["-1", "-2", "-3", "9"])
        before = time.time()  # the slot's time: the call's clock plus its wait
        slots.append((chat, before + await shaper.slot("t", chat, chat.startswith("-"))))
    for chat in {c for c, _ in slots}:
        mine = sorted(t for c, t in slots if c == chat)
        assert all(b - a >= 1.0 - SLACK for a, b in itertools.pairwise(mine))
        if chat.startswith("-"):
            assert all(
                sum(1 for t in mine if start <= t < start + 10.0 - SLACK) <= 5 for start in mine
            )
    every = sorted(t for _, t in slots)
    assert all(sum(1 for t in every if start <= t < start + 2.0 - SLACK) <= 8 for start in every)


def _spaced(times: list[float], gap: float) -> bool:
    times = sorted(times)
    return all(b - a >= gap - SLACK for a, b in itertools.pairwise(times))


async def _two_shapers_share(one: Shaper, two: Shaper) -> None:
    """Two processes' shapers on one store hand out slots one chat's limit apart, never
    two at once; a free slot reserved ``now`` counts, a taken one reserves nothing."""
    slots = []
    for n in range(6):
        shaper = one if n % 2 else two
        before = time.time()
        slots.append(before + await shaper.slot("t", "-1", True))
    assert _spaced(slots, 1.0)
    assert await one.now("t", "-2", True) == 0.0  # free: reserved
    assert await two.now("t", "-2", True) > 0.5  # taken by the other process
    assert await two.now("t", "-2", True) > 0.5  # and nothing reserved meanwhile
    assert await two.slot("t", "-2", True) < 1.0 + MARGIN + SLACK


async def test_processes_on_postgresql_share_one_allowance(pg_url: str) -> None:
    from bridge.db import Database
    from bridge.shaping import DatabaseWindows

    limits = {"t": (Limit(1, 1.0), Limit(20, 60.0, "group"))}
    dbs = [Database(pg_url), Database(pg_url)]
    try:
        one, two = (Shaper(limits, store=DatabaseWindows(db)) for db in dbs)
        await _two_shapers_share(one, two)
    finally:
        for db in dbs:
            await db.dispose()


async def test_processes_share_one_allowance_in_redis() -> None:
    import uuid

    import pytest
    import redis.asyncio as redis

    from bridge.shaping import RedisWindows

    url = "redis://127.0.0.1:6379/0"
    probe = redis.from_url(url)
    try:
        await probe.ping()
    except Exception as exc:  # no server here
        pytest.skip(f"Redis not reachable at {url}: {exc!r}")
    finally:
        await probe.aclose()
    limits = {"t": (Limit(1, 1.0), Limit(20, 60.0, "group"))}
    prefix = f"cb-test-{uuid.uuid4().hex[:8]}:"
    stores = [RedisWindows(url, prefix), RedisWindows(url, prefix)]
    try:
        one, two = (Shaper(limits, store=store) for store in stores)
        await _two_shapers_share(one, two)
    finally:
        for store in stores:
            await store.close()


async def test_a_slow_send_holds_the_next_slot_until_it_is_out() -> None:
    """The platform counts a message when it arrives, which may be well after its slot
    (a busy loop, a queued connection): the next slot is counted from when the previous
    message is out, and while it is in flight, from no earlier than now."""
    clock = [1000.0]
    shaper = Shaper({"t": (Limit(1, 1.0),)}, clock=lambda: clock[0])
    assert await shaper.slot("t", "c") == 0.0  # reserved at 1000, sent slowly...
    clock[0] = 1000.9
    assert await shaper.now("t", "c") > 1.0  # in flight: counts as arriving now at least
    clock[0] = 1001.5
    await shaper.sent("t", "c")  # ...out at 1001.5: the next one not before 1002.5
    clock[0] = 1002.0
    assert abs(await shaper.slot("t", "c") - (0.5 + MARGIN)) < SLACK


async def test_a_send_done_marks_only_its_own_slot_as_out() -> None:
    """Two sends to one chat from two tasks of one process (a direct answer and the
    outbox, say): the first one's "out" (even said twice) never marks the second as out
    while the second is still on its way, so the next slot keeps counting it as arriving
    now (issue 12's storm once saw Telegram refuse a private answer for that)."""
    import asyncio

    clock = [1000.0]
    shaper = Shaper({"t": (Limit(1, 1.0),)}, clock=lambda: clock[0])
    first_out, second_reserved = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        assert await shaper.slot("t", "c") == 0.0
        await shaper.sent("t", "c")  # out at 1000
        first_out.set()
        await second_reserved.wait()
        clock[0] = 1001.3
        await shaper.sent("t", "c")  # said again (a caller's own finally): changes nothing

    async def second() -> None:
        await first_out.wait()
        clock[0] = 1000.5
        assert abs(await shaper.slot("t", "c") - (0.5 + MARGIN)) < SLACK  # at 1001.15
        second_reserved.set()  # ... and still on its way

    await asyncio.gather(asyncio.create_task(first()), asyncio.create_task(second()))
    clock[0] = 1002.5  # the second is still in flight: it may arrive any moment
    assert await shaper.now("t", "c") > 1.0


async def test_confirming_a_slot_keeps_the_line_and_never_lands_too_close() -> None:
    """Two messages waiting behind a slow one: the first to confirm moves back past the
    second rather than next to it, and the second, confirming later, stays ahead of it
    (no two waiters leapfrog forever, no two arrive closer than the limit)."""
    from bridge.shaping import LocalWindows

    await _keeps_the_line(LocalWindows(), "c")


async def test_the_line_is_the_same_in_the_database(pg_url: str) -> None:
    from bridge.db import Database
    from bridge.shaping import DatabaseWindows

    db = Database(pg_url)
    try:
        await _keeps_the_line(DatabaseWindows(db), "line")
    finally:
        await db.dispose()


async def test_the_line_is_the_same_in_redis() -> None:
    import uuid

    import pytest
    import redis.asyncio as redis

    from bridge.shaping import RedisWindows

    probe = redis.from_url("redis://127.0.0.1:6379/0")
    try:
        await probe.ping()
    except Exception as exc:
        pytest.skip(f"Redis not reachable: {exc!r}")
    finally:
        await probe.aclose()
    store = RedisWindows("redis://127.0.0.1:6379/0", f"cb-test-{uuid.uuid4().hex[:8]}:")
    try:
        await _keeps_the_line(store, "line")
    finally:
        await store.close()


async def _keeps_the_line(store: Any, key: str) -> None:
    wanted = [(key, Limit(1, 1.0 + MARGIN))]
    gap = 1.0 + MARGIN
    assert await store.reserve(wanted, 0.0, False, "x") == 0.0  # sent slowly, in flight
    a = await store.reserve(wanted, 0.1, False, "a")  # behind x, counted as arriving now
    b = await store.reserve(wanted, 0.2, False, "b")
    assert abs(a - (0.1 + gap)) < SLACK and abs(b - (a + gap)) < SLACK
    # a's slot comes; x is still in flight: a moves back, behind b, not next to it
    a2 = await store.reserve(wanted, a, False, "a")
    assert a2 >= b + gap - SLACK
    await store.restamp([key], "x", 1.3)  # x is out at last
    b2 = await store.reserve(wanted, b, False, "b")  # b keeps its place ahead of a
    assert b2 < a2
    a3 = await store.reserve(wanted, a2, False, "a")  # a confirms again: still clear of b
    assert a3 >= b2 + gap - SLACK
