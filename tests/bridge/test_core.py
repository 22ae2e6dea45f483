"""The core's entry points: a handler that breaks answers clearly and changes nothing."""

from __future__ import annotations

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
