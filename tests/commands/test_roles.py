"""/role: admins grant member, host and admin; group hosts; bad targets change nothing."""

from __future__ import annotations

from sqlalchemy import select

from bridge.core import Bridge
from bridge.models import AuditEntry, RoleGrant
from tests.chat import Chat


async def grants(bridge: Bridge) -> list[tuple[str, int | None]]:
    async with bridge.db.transaction() as s:
        rows = (await s.execute(select(RoleGrant).order_by(RoleGrant.id))).scalars().all()
        return [(g.role, g.group_id) for g in rows]


async def test_grant_host_in_a_group_and_admin(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas", "/link ideas")
    await chat.as_("carol")
    await chat("/groups")  # carol has used the bot: she can be named as @carol
    await chat.as_("admin")
    out = await chat("/role @carol host ideas")
    assert out == "[#general] (only admin) @carol is now host in ideas."
    out = await chat("/role @carol host ideas")
    assert "@carol is host in ideas already." in out
    out = await chat("/role slack:U0123 admin")
    assert "@U0123 is now admin in the whole community." in out
    assert await grants(bridge) == [("admin", None), ("host", 1), ("admin", None)]
    async with bridge.db.transaction() as s:
        audit = await s.execute(select(AuditEntry).where(AuditEntry.action == "role.grant"))
        assert [(a.target, a.details["role"]) for a in audit.scalars()] == [
            ("console:carol", "host"),
            ("slack:U0123", "admin"),
        ]


async def test_group_host_sees_host_commands_only_in_that_group(chat: Chat) -> None:
    await chat("/group new ideas", "/group new other", "/link ideas")
    await chat(":channel elsewhere", "/link other", ":channel general")
    await chat("/role console:carol host ideas")
    await chat.as_("carol", "general")
    out = await chat("/link other")
    assert "Only admins may use /link." in out


async def test_bad_targets_change_nothing(chat: Chat, bridge: Bridge) -> None:
    before = await grants(bridge)
    out = await chat("/role @nobody host")
    assert "I don't know @nobody." in out
    out = await chat("/role console:bob king")
    assert "'king' is not one of member, host, admin." in out
    out = await chat("/role console:bob admin nowhere")
    assert "There is no group called nowhere" in out
    await chat("/group new ideas")
    out = await chat("/role console:bob admin ideas")
    assert "Admins are community-wide" in out
    await chat.as_("bob")
    out = await chat("/role console:bob admin")
    assert "Only admins may use /role." in out
    assert await grants(bridge) == before


async def test_platform_mentions_are_understood(chat: Chat, bridge: Bridge) -> None:
    await chat("/role <@U777|dora> host", "/role <@!4242> member")
    async with bridge.db.transaction() as s:
        from bridge.models import Account

        keys = {a.key for a in (await s.execute(select(Account))).scalars()}
    assert {"slack:U777", "discord:4242"} <= keys
