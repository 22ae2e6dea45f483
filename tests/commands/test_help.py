"""/help: what this person may use here, one command's usage, in their language."""

from __future__ import annotations

from bridge.core import Bridge
from bridge.messages import AccountRef, ChannelRef, Invocation
from tests.chat import Chat


async def test_members_do_not_see_admin_commands(chat: Chat) -> None:
    admin = await chat("/help")
    assert "/link:" in admin and "/role:" in admin
    await chat.as_("bob")
    member = await chat("/help")
    assert "/help:" in member and "/groups:" in member and "/connect:" in member
    assert "/link:" not in member and "/role:" not in member and "/group:" not in member


async def test_help_for_one_command_and_unknown(chat: Chat) -> None:
    out = await chat("/help link")
    assert "/link <group>" in out
    assert "<group>: the group's name" in out
    out = await chat("/help /group")
    assert "/group new <name> [closed|internal|public] [showcase] [hostdesk]" in out
    assert "/group set <name>" in out
    out = await chat("/help frob")
    assert "I don't know the command /frob." in out
    out = await chat("/link --help")
    assert out.lines[:2] == ["[#general] (only admin) Usage:", "    /link <group>"]


async def test_help_in_german(bridge: Bridge) -> None:
    [reply] = await bridge.handle(
        Invocation(
            channel=ChannelRef(platform="console", chat="#general"),
            account=AccountRef(platform="console", user_id="bob", locale="de"),
            command="help",
        )
    )
    assert reply.text.startswith("Befehle, die du hier nutzen kannst:")
    assert "Dieser Kanal ist noch mit keiner Gruppe verknüpft." in reply.text
