"""The core's entry points: a handler that breaks answers clearly and changes nothing."""

from __future__ import annotations

import asyncio

from bridge.core import Bridge
from bridge.messages import AccountRef, ChannelRef


async def test_a_broken_handler_answers_and_changes_nothing(bridge: Bridge) -> None:
    from sqlalchemy import func, select

    from bridge.models import Account
    from bridge.registry import registry

    async def broken(ctx: object, text: str) -> bool:
        raise RuntimeError("bug")

    registry.text_handlers.insert(0, broken)
    try:
        [reply] = await bridge.handle_text(
            ChannelRef(platform="console", chat="zoe", dm=True),
            AccountRef(platform="console", user_id="zoe", locale="de"),
            "hello",
        )
    finally:
        registry.text_handlers.remove(broken)
    assert reply.text.startswith("Bei mir ist etwas schiefgegangen; es wurde nichts geändert.")
    async with bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(Account))).scalar_one() == 1


async def test_reading_does_not_wait_for_a_writer_on_sqlite(bridge: Bridge) -> None:
    """Work that only reads (/healthz, feeds, exports, settings) never queues behind a
    command's transaction on SQLite (WAL): it takes no write lock. PostgreSQL readers
    never wait for writers anyway."""
    from sqlalchemy import text

    await bridge.set_setting("probe", "before")
    writing = asyncio.Event()
    done = asyncio.Event()

    async def writer() -> None:
        async with bridge.db.transaction() as session:
            await session.execute(text("UPDATE settings SET value = 'during' WHERE key = 'probe'"))
            writing.set()
            await done.wait()  # holds the write lock until the reader is through

    task = asyncio.create_task(writer())
    await writing.wait()
    try:
        async with asyncio.timeout(5):  # a reader taking the write lock would wait 30 s
            assert await bridge.get_setting("probe") == "before"
    finally:
        done.set()
        await task
    assert await bridge.get_setting("probe") == "during"
