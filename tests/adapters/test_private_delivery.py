"""Private messages across platforms: a person who blocked the bot on Telegram (or whose
Discord DMs are closed) but joined another account gets their notifications there; what
cannot reach them waits, and never goes where others see it. Real SDKs against the fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from adapters.discord import DiscordAdapter
from adapters.slack import SlackAdapter
from adapters.telegram import TelegramAdapter
from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.messages import AccountRef, ChannelRef, Invocation, Message, Text
from bridge.models import Account, OutboxRow
from tests.conftest import SPEED, BridgeFactory
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import FakeTelegram

TOKEN = "123:ABC"


class Env:
    def __init__(
        self,
        bridge: Bridge,
        clock: FakeClock,
        tg: FakeTelegram,
        slack: FakeSlack,
        discord: FakeDiscord | None,
    ) -> None:
        self.bridge = bridge
        self.clock = clock
        self.tg = tg
        self.slack = slack
        self.discord = discord

    async def say(self, platform: str, user: str, command: str, args: str = "") -> str:
        """A command in the private chat with the bot; the text of its first reply."""
        replies = await self.bridge.handle(
            Invocation(
                channel=ChannelRef(platform=platform, chat=user, dm=True),
                account=AccountRef(platform=platform, user_id=user, display_name="Bob"),
                command=command,
                args=args,
            )
        )
        return replies[0].text if replies else ""

    async def join(self, first: tuple[str, str], second: tuple[str, str]) -> int:
        """``/connect`` on ``first``, the code typed on ``second``; the person's id."""
        text = await self.say(*first, "connect")
        self.clock.advance(60)  # the second account is the one used last
        code = text.split("Your code is ", 1)[1].split(".", 1)[0]
        assert "are now one person" in await self.say(*second, "connect", code)
        async with self.bridge.db.transaction() as s:
            account = (
                await s.execute(
                    select(Account).where(Account.platform == first[0], Account.user_id == first[1])
                )
            ).scalar_one()
            return account.person_id

    async def notify(self, person_id: int, text: str) -> None:
        async with self.bridge.db.transaction() as s:
            await self.bridge.outbox.notify(s, person_id, Message(parts=(Text(text=text),)))
        await self.bridge.outbox.drain(include_delayed=True)

    def slack_dms(self) -> list[str]:
        return [p.text for p in self.slack.posted() if p.channel.startswith("D")]


@pytest.fixture
async def env(make_bridge: BridgeFactory, clock: FakeClock) -> AsyncIterator[Env]:
    tg = await FakeTelegram(token=TOKEN, speed=SPEED).start()
    slack = await FakeSlack(speed=SPEED).start()
    discord = await FakeDiscord(speed=SPEED).start()
    slack.add_user("U7", "Bob")
    bridge = await make_bridge(
        telegram={"token": TOKEN, "base_url": tg.base_url},
        slack={"bot_token": slack.token, "signing_secret": slack.secret, "api_url": slack.api_url},
        discord={
            "token": discord.token,
            "api_base": discord.api_base,
            "gateway_url": discord.ws_url,
        },
    )
    adapters: list[Any] = [TelegramAdapter(bridge), SlackAdapter(bridge), DiscordAdapter(bridge)]
    for adapter in adapters:
        bridge.add_adapter(adapter)
        await adapter.start()
    try:
        yield Env(bridge, clock, tg, slack, discord)
    finally:
        for adapter in adapters:
            await adapter.stop()
        await tg.stop()
        await slack.close()
        await discord.stop()


async def test_blocked_on_telegram_the_notification_comes_on_slack(env: Env) -> None:
    bob = env.tg.user(7, "Bob")
    env.tg.start_bot(bob)
    await env.tg.wait_sent(1, chat_id=7)
    person = await env.join(("slack", "U7"), ("telegram", "7"))  # Telegram used last
    env.tg.block_bot(bob)  # Telegram tells the bot (my_chat_member: kicked)
    for _ in range(200):
        if await _dm_closed(env, "telegram", "7"):
            break
        await asyncio.sleep(0.02)
    await env.notify(person, "Your idea I-1 has a new status: done.")
    assert env.slack_dms() == ["Your idea I-1 has a new status: done."]
    assert not [t for t in env.tg.texts(chat_id=7) if "I-1" in t]


async def test_a_refused_private_message_goes_to_the_other_account(env: Env) -> None:
    """The block was not seen (the update was lost): the send is refused with 403, and the
    message goes to the person's Slack account instead, once."""
    bob = env.tg.user(7, "Bob")
    env.tg.start_bot(bob)
    await env.tg.wait_sent(1, chat_id=7)
    person = await env.join(("slack", "U7"), ("telegram", "7"))
    env.tg.started.discard(7)  # blocked, and the bot was not told
    await env.notify(person, "An answer to Q-1 is waiting.")
    refused = [c for c in env.tg.sent(chat_id=7, ok=False) if c.error]
    assert [c.error["error_code"] for c in refused if c.error] == [403]
    assert env.slack_dms() == ["An answer to Q-1 is waiting."]
    assert await _dm_closed(env, "telegram", "7")
    async with env.bridge.db.transaction() as s:
        statuses = (await s.execute(select(OutboxRow.status))).scalars().all()
    assert "rerouted" in statuses and "sending" not in statuses


async def test_closed_discord_dms_hold_the_message_until_there_is_a_way(env: Env) -> None:
    """Discord answers 50007 to a DM the user does not accept: with no other account the
    message waits (held), and is never posted in a channel."""
    assert env.discord is not None
    env.discord.closed_dms.add("555")
    await env.say("discord", "555", "groups")  # Bob is known on Discord
    async with env.bridge.db.transaction() as s:
        account = (
            await s.execute(select(Account).where(Account.platform == "discord"))
        ).scalar_one()
        person = account.person_id
    await env.notify(person, "psst")
    refused = [r for r in env.discord.rejected if r[2] == 50007]
    assert refused
    assert not [m for m in env.discord.messages.values() if "psst" in str(m.get("content"))]
    async with env.bridge.db.transaction() as s:
        row = (
            await s.execute(select(OutboxRow).where(OutboxRow.channel_key == "discord:@555"))
        ).scalar_one()
    assert row.status == "held"
    assert await _dm_closed(env, "discord", "555")


async def _dm_closed(env: Env, platform: str, user_id: str) -> bool:
    async with env.bridge.db.transaction() as s:
        account = (
            await s.execute(
                select(Account).where(Account.platform == platform, Account.user_id == user_id)
            )
        ).scalar_one_or_none()
    return account is not None and not account.dm_open
