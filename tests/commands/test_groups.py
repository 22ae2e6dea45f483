"""/groups, /group new and /group set: visibility, flags, one showcase, bad input."""

from __future__ import annotations

from sqlalchemy import select

from bridge.core import Bridge
from bridge.models import Group
from tests.chat import Chat


async def groups(bridge: Bridge) -> dict[str, tuple[str, bool, bool]]:
    async with bridge.db.transaction() as s:
        rows = (await s.execute(select(Group))).scalars().all()
        return {g.slug: (g.visibility, g.showcase, g.hostdesk) for g in rows}


async def test_group_new_with_flags(chat: Chat, bridge: Bridge) -> None:
    out = await chat('/group new "Wholesale Partners" closed hostdesk')
    assert out == (
        "[#general] (only admin) Created group wholesale-partners (closed, host "
        "desk). Link a channel to it with /link wholesale-partners."
    )
    assert await groups(bridge) == {"wholesale-partners": ("closed", False, True)}


async def test_duplicate_and_bad_names_change_nothing(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas")
    out = await chat("/group new Ideas public")
    assert "A group called ideas exists already." in out
    out = await chat("/group new !!!")
    assert "A group name needs letters or digits." in out
    out = await chat("/group new ideas secret")
    assert "I did not expect 'secret'." in out
    assert "/group new <name> [closed|internal|public] [showcase] [hostdesk]" in out
    out = await chat("/group")
    assert "Choose one of: new, set, rename, delete." in out  # issue 16 added two
    assert await groups(bridge) == {"ideas": ("internal", False, False)}


async def test_showcase_flag_moves_to_one_group(chat: Chat, bridge: Bridge) -> None:
    await chat("/group new ideas showcase", "/group new best")
    out = await chat("/group set best showcase")
    assert out == "[#general] (only admin) Group best is now internal, showcase."
    assert await groups(bridge) == {
        "ideas": ("internal", False, False),
        "best": ("internal", True, False),
    }
    out = await chat("/group set best showcase")
    assert "Nothing to change" in out
    await chat("/group set best -showcase", "/group set best public", "/group set best hostdesk")
    assert (await groups(bridge))["best"] == ("public", False, True)
    out = await chat("/group set best public")
    assert "is public already" in out
    out = await chat("/group set nope public")
    assert "There is no group called nope" in out


async def test_closed_groups_are_hidden_from_outsiders(chat: Chat) -> None:
    await chat("/group new ideas", "/group new trades closed", "/group new wholesale closed")
    await chat(":channel trades-room", "/link trades")
    await chat.as_("bob", "general")
    out = await chat("/groups")
    assert "ideas (internal)" in out
    assert "trades" not in out and "wholesale" not in out
    await chat(":channel trades-room")  # in a linked channel of a closed group: that one shows
    out = await chat("/groups")
    assert "trades (closed) — #trades-room [console]" in out
    assert "wholesale" not in out
    await chat.as_("admin", "general")
    await chat("/role console:bob member wholesale")
    await chat.as_("bob", "general")
    assert "wholesale (closed)" in await chat("/groups")


async def test_members_may_not_manage_groups(chat: Chat, bridge: Bridge) -> None:
    await chat.as_("bob")
    out = await chat("/group new mine")
    assert out == "[#general] (only bob) Only admins may use /group new."
    out = await chat("/group set mine public")
    assert out == "[#general] (only bob) Only admins may use /group set."
    assert await groups(bridge) == {}
