"""/link and /unlink: admins only, unknown groups answered with a hint, nothing changed."""

from __future__ import annotations

from sqlalchemy import func, select

from bridge.core import Bridge
from bridge.models import AuditEntry, ChannelLink
from tests.chat import Chat


async def count_links(bridge: Bridge) -> int:
    async with bridge.db.transaction() as s:
        return int((await s.execute(select(func.count()).select_from(ChannelLink))).scalar_one())


async def test_admin_links_channel_to_existing_group(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas internal")
    out = await chat("/link ideas")
    assert (
        out == "[#general] This channel is now linked to the group ideas. "
        "Type /help to see what you can do here."
    )
    assert await count_links(bridge) == 1
    out = await chat("/groups")
    assert "ideas (internal) — #general [console]" in out


async def test_unknown_group_hints_at_group_new(chat: Chat, bridge: Bridge) -> None:
    out = await chat("/link nope")
    assert "There is no group called nope" in out
    assert "/group new nope" in out
    assert await count_links(bridge) == 0


async def test_member_may_not_link(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas")
    await chat.as_("bob")
    out = await chat("/link ideas")
    assert out == "[#general] (only bob) Only admins may use /link."
    assert await count_links(bridge) == 0


async def test_missing_argument_shows_usage(chat: Chat, bridge: Bridge) -> None:
    out = await chat("/link")
    assert "<group> is missing." in out
    assert "/link <group>" in out
    assert await count_links(bridge) == 0


async def test_relink_and_unlink(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas", "/group new trades closed", "/link ideas")
    out = await chat("/link ideas")
    assert "linked to ideas already" in out
    out = await chat("/link trades")
    assert "now shows the group trades" in out
    assert await count_links(bridge) == 1
    out = await chat("/unlink")
    assert "no longer shows the group trades" in out
    out = await chat("/unlink")
    assert "not linked to a group" in out
    assert await count_links(bridge) == 0
    async with bridge.db.transaction() as s:
        actions = (await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars()
        assert list(actions) == [
            "group.create",
            "group.create",
            "channel.link",
            "channel.link",
            "channel.unlink",
        ]
