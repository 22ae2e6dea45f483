"""/connect: one person behind accounts on several platforms, by a one-time code."""

from __future__ import annotations

import re

from sqlalchemy import select

from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import AccountRef, ChannelRef, Invocation
from bridge.models import Account, RoleGrant
from tests.chat import Chat


def slack(user: str, command: str, args: str = "") -> Invocation:
    return Invocation(
        channel=ChannelRef(platform="slack", chat="C1"),
        account=AccountRef(platform="slack", user_id=user, display_name=user),
        command=command,
        args=args,
    )


async def persons(bridge: Bridge) -> dict[str, int]:
    async with bridge.db.transaction() as s:
        rows = (await s.execute(select(Account))).scalars().all()
        return {a.key: a.person_id for a in rows}


async def test_code_joins_accounts_and_roles_move_along(chat: Chat, bridge: Bridge) -> None:
    await chat("/role slack:U9 host")  # the Slack account is a host before joining
    await chat.as_("alice")
    out = await chat("/connect")
    code = re.search(r"Your code is ([A-Z0-9]{8})\.", out)
    assert code, out
    assert "(only alice)" in out  # the code is shown to alice only

    [reply] = await bridge.handle(slack("U9", "connect", code.group(1)))
    assert "are now one person" in reply.text
    assert reply.ephemeral
    ids = await persons(bridge)
    assert ids["console:alice"] == ids["slack:U9"]
    async with bridge.db.transaction() as s:
        grants = (await s.execute(select(RoleGrant).where(RoleGrant.role == "host"))).scalars()
        assert [g.person_id for g in grants] == [ids["console:alice"]]
    out = await chat("/help")  # alice is a host now, on the console too
    assert "Commands you can use here" in out


async def test_code_is_single_use_and_expires(chat: Chat, bridge: Bridge, clock: FakeClock) -> None:
    await chat.as_("alice")
    code = re.search(r"([A-Z0-9]{8})", await chat("/connect"))
    assert code
    await bridge.handle(slack("U1", "connect", code.group(1)))
    [again] = await bridge.handle(slack("U2", "connect", code.group(1)))
    assert "unknown or has expired" in again.text

    code2 = re.search(r"([A-Z0-9]{8})", await chat("/connect"))
    assert code2
    clock.advance(16 * 60)
    [late] = await bridge.handle(slack("U3", "connect", code2.group(1)))
    assert "unknown or has expired" in late.text
    ids = await persons(bridge)
    assert ids["slack:U1"] == ids["console:alice"]
    assert "slack:U2" not in ids and "slack:U3" not in ids  # refused: nothing was stored


async def test_own_code_and_garbage_are_refused(chat: Chat, bridge: Bridge) -> None:
    await chat.as_("alice")
    code = re.search(r"([A-Z0-9]{8})", await chat("/connect"))
    assert code
    out = await chat(f"/connect {code.group(1)}")
    assert "from your account on another platform" in out
    out = await chat("/connect NOPE")
    assert "unknown or has expired" in out
