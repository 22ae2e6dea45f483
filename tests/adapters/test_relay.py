"""Issue 17: the relay. A group's channels on Slack, Telegram and Discord become one
conversation: a message, its edit, its deletion and a reply cross every pair of
platforms, through the real SDKs against the fakes; nothing echoes, a closed group's
messages stay in its own channels, the map survives a restart, a burst arrives whole and
in order within the platforms' limits."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord import DiscordAdapter
from adapters.slack import SlackAdapter
from adapters.telegram import TelegramAdapter
from bridge.core import Bridge
from bridge.http import HttpServer
from bridge.messages import AccountRef, ChannelRef, Invocation
from tests.conftest import SPEED, BridgeFactory
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack, SlackSender
from tests.fakes.telegram import FakeTelegram

TOKEN = "123:ABC"
GROUP = -100
ADMINS = {"slack": "UADMIN", "telegram": "1", "discord": "111"}
_ts = itertools.count(1)
NAMES = {"C1": "#lobby", "C2": "#wholesale", str(GROUP): "Lobby", "-200": "Wholesale"}


def slack_ts() -> str:
    return f"1710000000.{next(_ts):06d}"


class Env:
    def __init__(
        self, make_bridge: BridgeFactory, privacy: bool = False, speed: int = SPEED
    ) -> None:
        self.make_bridge = make_bridge
        self.speed = speed
        self.tg = FakeTelegram(token=TOKEN, speed=speed, privacy_mode=privacy)
        self.slack = FakeSlack(speed=speed)
        self.discord = FakeDiscord(speed=speed)
        self.adapters: list[Any] = []
        self.server: HttpServer | None = None
        self.bridge: Bridge | None = None
        self.sender: SlackSender | None = None

    async def start_fakes(self) -> None:
        await self.tg.start()
        await self.slack.start()
        await self.discord.start()
        self.tg.group(GROUP, "Lobby")
        self.tg.group(-200, "Wholesale")
        self.tom = self.tg.user(5, "Tom")
        self.slack.add_user("U1", "Alice")
        self.slack.add_user(ADMINS["slack"], "Ada")
        for channel, name in (("C1", "lobby"), ("C2", "wholesale")):
            self.slack.add_channel(channel, name)
        guild = self.discord.add_guild("Acme")
        self.dc_lobby = self.discord.add_channel(guild, "lobby")
        self.dc_wholesale = self.discord.add_channel(guild, "wholesale")
        self.dave = self.discord.user("222", "dave", global_name="Dave")

    async def start_bot(self) -> Bridge:
        bridge = await self.make_bridge(
            telegram={"token": TOKEN, "base_url": self.tg.base_url},
            slack={
                "bot_token": self.slack.token,
                "signing_secret": self.slack.secret,
                "api_url": self.slack.api_url,
            },
            discord={
                "token": self.discord.token,
                "api_base": self.discord.api_base,
                "gateway_url": self.discord.ws_url,
                "message_content": True,
            },
            community={"admins": [f"{p}:{u}" for p, u in ADMINS.items()]},
            **({"delivery": {"limits": {}}} if self.speed == 1 else {}),  # the platforms' own
        )
        self.adapters = [TelegramAdapter(bridge), SlackAdapter(bridge), DiscordAdapter(bridge)]
        for adapter in self.adapters:
            bridge.add_adapter(adapter)
        self.server = HttpServer(bridge)
        await self.server.start("127.0.0.1", 0)
        for adapter in self.adapters:
            await adapter.start()
        await self.discord.wait_for(lambda: self.discord.connected)
        self.bridge = bridge
        self.sender = self.slack.sender(f"http://127.0.0.1:{self.server.port}/slack/events")
        return bridge

    async def stop_bot(self) -> None:
        for adapter in self.adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        if self.server is not None:
            await self.server.stop()

    async def close(self) -> None:
        await self.stop_bot()
        await self.tg.stop()
        await self.slack.close()
        await self.discord.stop()

    async def admin(self, platform: str, chat: str, command: str, args: str) -> str:
        assert self.bridge is not None
        replies = await self.bridge.handle(
            Invocation(
                channel=ChannelRef(platform=platform, chat=chat),
                account=AccountRef(platform=platform, user_id=ADMINS[platform], display_name="Ada"),
                command=command,
                args=args,
                channel_name=NAMES.get(chat, chat),
            )
        )
        await self.settle()
        return "\n".join(r.text for r in replies)

    async def settle(self) -> None:
        """Until what the bot received is handled and what it queued is delivered."""
        assert self.bridge is not None
        for _ in range(3):
            await asyncio.sleep(0.1)
            for adapter in self.adapters:
                if isinstance(adapter, SlackAdapter):
                    await adapter.settle()
            await self.bridge.outbox.drain(include_delayed=True)

    # what people see now
    def telegram_shown(self, chat: int = GROUP) -> list[str]:
        return [
            str(m.get("text", ""))
            for m in self.tg.messages_in(chat)
            if m["from"].get("is_bot") and (chat, m["message_id"]) not in self.tg.deleted
        ]

    def slack_shown(self, channel: str = "C1") -> list[tuple[str | None, str]]:
        return [(p.username, p.text) for p in self.slack.posted(channel)]

    def discord_shown(self, channel: str) -> list[str]:
        """Messages as Discord shows them: a webhook's under the name it posted with."""
        return [
            f"[{m['author']['username']}] {m['content']}" if m.get("webhook_id") else m["content"]
            for m in self.discord.channel_messages(channel)
        ]

    async def slack_says(self, text: str, channel: str = "C1", thread: str | None = None) -> str:
        assert self.sender is not None
        ts = slack_ts()
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "channel_type": "channel",
            "user": "U1",
            "text": text,
            "ts": ts,
        }
        if thread:
            event["thread_ts"] = thread
        status, _ = await self.sender.event(event)
        assert status == 200
        await self.settle()
        return ts

    async def slack_event(self, event: dict[str, Any]) -> None:
        assert self.sender is not None
        status, _ = await self.sender.event(
            {"type": "message", "channel": "C1", "channel_type": "channel", **event}
        )
        assert status == 200
        await self.settle()


@pytest.fixture
async def env(make_bridge: BridgeFactory) -> AsyncIterator[Env]:
    env = Env(make_bridge)
    await env.start_fakes()
    await env.start_bot()
    for platform, chat in (("slack", "C1"), ("telegram", str(GROUP)), ("discord", env.dc_lobby)):
        if platform == "slack":
            await env.admin(platform, chat, "group", "new lobby")
        await env.admin(platform, chat, "link", "lobby")
    try:
        yield env
    finally:
        await env.close()


async def test_turning_the_relay_on_tells_every_linked_channel(env: Env) -> None:
    reply = await env.admin("slack", "C1", "group", "set lobby relay")
    assert "Group lobby is now internal, relay." in reply
    assert "privacy mode" not in reply and "message_content" not in reply
    notice = "Messages in this channel are now shared with the other channels of the group lobby"
    assert any(notice in text for _, text in env.slack_shown())
    assert any(notice in text and "Lobby (Telegram)" in text for _, text in env.slack_shown())
    assert any(notice in text for text in env.telegram_shown())
    assert any(notice in text for text in env.discord_shown(env.dc_lobby))
    # a channel linked later is told too, and the others learn it joined
    await env.admin("slack", "C2", "link", "lobby")
    assert any(notice in text for _, text in env.slack_shown("C2"))
    assert "#wholesale (Slack)" in env.telegram_shown()[-1]
    reply = await env.admin("slack", "C1", "group", "set lobby -relay")
    assert "no longer shared" in env.telegram_shown()[-1]


async def test_a_message_its_edit_its_deletion_and_a_reply_cross_every_pair(env: Env) -> None:
    await env.admin("slack", "C1", "group", "set lobby relay")
    # Slack → Telegram and Discord, under the author's name and platform
    ts = await env.slack_says("Hallo aus *Slack* @everyone")
    # on Telegram an @name would notify a same-named member: it stays plain text
    assert env.telegram_shown()[-1] == "Alice (Slack): Hallo aus *Slack* @\u2060everyone"
    # on Discord through the channel's webhook, under her name and platform; the markup
    # shows as typed and @everyone pings nobody
    assert env.discord_shown(env.dc_lobby)[-1] == (
        "[Alice (Slack)] Hallo aus \\*Slack\\* @\u200beveryone"
    )
    [copy] = [m for m in env.discord.channel_messages(env.dc_lobby) if "Hallo" in m["content"]]
    assert copy["allowed_mentions"]["parse"] == []  # nobody is pinged
    assert copy["author"]["bot"] and copy["webhook_id"]
    assert copy["avatar_url"] == "https://avatars.slack-edge.com/U1_72.png"  # her picture
    # Telegram → Slack (under Tom's name) and Discord
    env.tg.text(env.tom, env.tg.chats[GROUP], "Moin aus Telegram")
    await env.tg.wait_for(lambda: True)
    await env.settle()
    assert env.slack_shown()[-1] == ("Tom (Telegram)", "Moin aus Telegram")
    assert env.discord_shown(env.dc_lobby)[-1] == "[Tom (Telegram)] Moin aus Telegram"
    # Discord → Slack and Telegram
    said = await env.discord.member_says(env.dc_lobby, env.dave, "Hi from Discord")
    await env.settle()
    assert env.slack_shown()[-1] == ("Dave (Discord)", "Hi from Discord")
    icon = env.slack.posted("C1")[-1].icon_url
    assert icon is not None and icon.startswith("https://cdn.discordapp.com/")
    assert env.telegram_shown()[-1] == "Dave (Discord): Hi from Discord"

    # edits follow
    await env.slack_event(
        {"subtype": "message_changed", "message": {"user": "U1", "ts": ts, "text": "Hallo!"}}
    )
    assert "Alice (Slack): Hallo!" in env.telegram_shown()
    assert "[Alice (Slack)] Hallo!" in env.discord_shown(env.dc_lobby)
    [tom_said] = [m for m in env.tg.messages_in(GROUP) if m.get("text") == "Moin aus Telegram"]
    env.tg.edit_text(env.tom, tom_said, "Moin, moin")
    await env.settle()
    assert ("Tom (Telegram)", "Moin, moin") in env.slack_shown()
    assert "[Tom (Telegram)] Moin, moin" in env.discord_shown(env.dc_lobby)
    await env.discord.member_edits(said, "Hi from Discord (edited)")
    await env.settle()
    assert ("Dave (Discord)", "Hi from Discord (edited)") in env.slack_shown()
    assert "Dave (Discord): Hi from Discord (edited)" in env.telegram_shown()

    # a reply to a copy becomes a reply to the original or its copy on the other side
    [copy_of_alice] = [
        m for m in env.tg.messages_in(GROUP) if str(m.get("text", "")).endswith("Hallo!")
    ]
    env.tg.text(env.tom, env.tg.chats[GROUP], "Genau", reply_to=copy_of_alice)
    await env.settle()
    [threaded] = [p for p in env.slack.posted("C1") if p.text == "Genau"]
    assert threaded.thread_ts == ts  # in the thread of Alice's own message
    [answer] = [m for m in env.discord.channel_messages(env.dc_lobby) if "Genau" in m["content"]]
    parent = answer["message_reference"]["message_id"]
    assert "Hallo!" in env.discord.messages[parent]["content"]
    # a Slack thread reply under Tom's copy: a reply to Tom's own message on Telegram and
    # to its copy on Discord
    [tom_copy] = [p for p in env.slack.posted("C1") if p.text == "Moin, moin"]
    await env.slack_says("Stimmt", thread=tom_copy.ts)
    [on_tg] = [m for m in env.tg.messages_in(GROUP) if str(m.get("text", "")).endswith("Stimmt")]
    assert on_tg["reply_to_message"]["message_id"] == tom_said["message_id"]
    [on_dc] = [m for m in env.discord.channel_messages(env.dc_lobby) if "Stimmt" in m["content"]]
    assert "Moin, moin" in env.discord.messages[on_dc["message_reference"]["message_id"]]["content"]
    # a Discord reply to Dave's own message: under its copies on Slack and Telegram
    await env.discord.member_says(env.dc_lobby, env.dave, "Nachtrag", reply_to=said["id"])
    await env.settle()
    [on_slack] = [p for p in env.slack.posted("C1") if p.text == "Nachtrag"]
    [dave_on_slack] = [p for p in env.slack.posted("C1") if "Hi from Discord" in p.text]
    assert on_slack.thread_ts == dave_on_slack.ts
    [nachtrag] = [
        m for m in env.tg.messages_in(GROUP) if str(m.get("text", "")).endswith("Nachtrag")
    ]
    assert "Hi from Discord" in nachtrag["reply_to_message"]["text"]

    # deletions follow (Telegram tells bots of none)
    await env.slack_event({"subtype": "message_deleted", "deleted_ts": ts})
    assert not [t for t in env.telegram_shown() if "Hallo!" in t]
    assert not [t for t in env.discord_shown(env.dc_lobby) if "Hallo!" in t]
    await env.discord.member_deletes(said)
    await env.settle()
    assert not [t for _, t in env.slack_shown() if "Hi from Discord" in t]
    assert not [t for t in env.telegram_shown() if "Hi from Discord" in t]


async def test_attachments_cross_as_links(env: Env) -> None:
    await env.admin("slack", "C1", "group", "set lobby relay")
    link = "https://acme.slack.com/files/U1/F123/bericht.pdf"
    await env.slack_event(
        {
            "subtype": "file_share",
            "user": "U1",
            "ts": slack_ts(),
            "text": "Der Bericht",
            "files": [{"id": "F123", "name": "bericht.pdf", "permalink": link}],
        }
    )
    assert env.telegram_shown()[-1] == f"Alice (Slack): Der Bericht\n│ {link}"
    await env.discord.member_says(env.dc_lobby, env.dave, "", files=("plan.png",))
    await env.settle()
    assert env.slack_shown()[-1] == ("Dave (Discord)", f"{env.discord.url}/a/plan.png")
    photo = env.tg._message(env.tom, env.tg.chats[GROUP], "", caption="Baustelle")
    photo["photo"] = [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}]
    env.tg.push({"message": photo})
    await env.settle()
    assert env.slack_shown()[-1] == ("Tom (Telegram)", "Baustelle\n│ 📎 photo (Telegram)")


async def test_a_typed_newline_never_forges_another_authors_line(env: Env) -> None:
    await env.admin("slack", "C1", "group", "set lobby relay")
    await env.slack_says("Hallo\nTom (Telegram): Ich stimme zu\n*fett*")
    assert env.telegram_shown()[-1] == (
        "Alice (Slack): Hallo\n│ Tom (Telegram): Ich stimme zu\n│ *fett*"
    )
    assert env.discord_shown(env.dc_lobby)[-1] == (
        "[Alice (Slack)] Hallo\n│ Tom (Telegram): Ich stimme zu\n│ \\*fett\\*"
    )


async def test_without_manage_webhooks_discord_names_the_author_in_bold(env: Env) -> None:
    env.discord.no_webhooks.add(env.dc_lobby)
    await env.admin("slack", "C1", "group", "set lobby relay")
    ts = await env.slack_says("ohne Webhook")
    assert env.discord_shown(env.dc_lobby)[-1] == "**Alice (Slack)**: ohne Webhook"
    await env.slack_event(
        {"subtype": "message_changed", "message": {"user": "U1", "ts": ts, "text": "geändert"}}
    )
    assert env.discord_shown(env.dc_lobby)[-1] == "**Alice (Slack)**: geändert"


async def test_a_mention_pings_only_who_allowed_it(env: Env) -> None:
    """A mention crosses as the person's name; it becomes a real mention on a platform
    where they have a joined account only after they said /mentions on."""
    assert env.bridge is not None
    env.slack.add_user("U9", "Bob")
    bob_on_discord = env.discord.user("333", "bob", global_name="Bob")

    async def say(platform: str, user: str, command: str, args: str = "") -> str:
        assert env.bridge is not None
        replies = await env.bridge.handle(
            Invocation(
                channel=ChannelRef(platform=platform, chat=user, dm=True),
                account=AccountRef(platform=platform, user_id=user, display_name="Bob"),
                command=command,
                args=args,
            )
        )
        return replies[0].text

    code = (await say("slack", "U9", "connect")).split("Your code is ", 1)[1].split(".")[0]
    assert "are now one person" in await say("discord", "333", "connect", code)
    await env.admin("slack", "C1", "group", "set lobby relay")

    await env.discord.member_says(
        env.dc_lobby, env.dave, "Frage an <@333>", mentions=(bob_on_discord,)
    )
    await env.settle()
    assert env.slack_shown()[-1] == ("Dave (Discord)", "Frage an @Bob")  # a name, no ping
    assert env.slack.posted("C1")[-1].shown == "Frage an Bob"
    assert env.telegram_shown()[-1] == "Dave (Discord): Frage an @\u2060Bob"

    assert "now pings you" in await say("slack", "U9", "mentions", "on")
    await env.discord.member_says(
        env.dc_lobby, env.dave, "Nochmal <@333>", mentions=(bob_on_discord,)
    )
    await env.settle()
    assert env.slack.posted("C1")[-1].shown == "Nochmal <@U9>"  # Bob is pinged on Slack
    assert env.telegram_shown()[-1] == "Dave (Discord): Nochmal @\u2060Bob"  # no account there
    assert "shows your name" in await say("slack", "U9", "mentions", "off")


async def test_nothing_echoes(env: Env) -> None:
    await env.admin("slack", "C1", "group", "set lobby relay")
    await env.slack_says("once")
    before = (
        len(env.slack_shown()),
        len(env.telegram_shown()),
        len(env.discord_shown(env.dc_lobby)),
    )
    # Slack delivers the bot's own copies as events (bot_id), a second bridge re-posts a
    # copy as if a member wrote it, Discord shows the bot's copy to the gateway
    for posted in env.slack.posted("C1"):
        await env.slack_event(
            {"user": "UBOT", "bot_id": "BBOT", "text": posted.text, "ts": posted.ts}
        )
    [tg_copy] = [m for m in env.tg.messages_in(GROUP) if str(m.get("text", "")).endswith("once")]
    [dc_copy] = [m for m in env.discord.channel_messages(env.dc_lobby) if "once" in m["content"]]
    await env.discord._member_event("MESSAGE_CREATE", dc_copy)
    await env.settle()
    after = (
        len(env.slack_shown()),
        len(env.telegram_shown()),
        len(env.discord_shown(env.dc_lobby)),
    )
    assert after == before
    assert tg_copy["from"]["is_bot"]


async def test_a_closed_groups_messages_never_leave_it(env: Env) -> None:
    await env.admin("slack", "C2", "group", "new wholesale closed")
    await env.admin("slack", "C2", "link", "wholesale")
    await env.admin("telegram", "-200", "link", "wholesale")
    for name in ("lobby", "wholesale"):
        await env.admin("slack", "C1", "group", f"set {name} relay")
    await env.slack_says("Preisliste nur für Großhandel", channel="C2")
    assert "Alice (Slack): Preisliste nur für Großhandel" in env.telegram_shown(-200)
    assert not [t for t in env.telegram_shown(GROUP) if "Preisliste" in t]
    assert not [t for t in env.discord_shown(env.dc_lobby) if "Preisliste" in t]
    assert not [t for _, t in env.slack_shown("C1") if "Preisliste" in t]


async def test_an_edit_after_a_restart_still_follows(env: Env) -> None:
    await env.admin("slack", "C1", "group", "set lobby relay")
    ts = await env.slack_says("vor dem Neustart")
    await env.stop_bot()
    await env.start_bot()  # a new process on the same database: the map is stored
    await env.slack_event(
        {"subtype": "message_changed", "message": {"user": "U1", "ts": ts, "text": "danach"}}
    )
    assert "Alice (Slack): danach" in env.telegram_shown()
    assert "[Alice (Slack)] danach" in env.discord_shown(env.dc_lobby)
    assert not [t for t in env.telegram_shown() if "vor dem" in t]


async def test_the_map_is_forgotten_after_the_configured_time(env: Env) -> None:
    from datetime import timedelta

    await env.admin("slack", "C1", "group", "set lobby relay")
    ts = await env.slack_says("alt")
    assert env.bridge is not None
    env.bridge.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    assert (await env.bridge.deadlines.prune())["relayed"] == 1
    await env.slack_event(
        {"subtype": "message_changed", "message": {"user": "U1", "ts": ts, "text": "neu"}}
    )
    assert "Alice (Slack): alt" in env.telegram_shown()  # no longer followed
    assert not [t for t in env.telegram_shown() if t.endswith("neu")]


async def test_a_burst_arrives_whole_and_in_order_within_the_limits(env: Env) -> None:
    await env.admin("slack", "C1", "group", "set lobby relay")
    assert env.sender is not None
    for n in range(100):
        event = {
            "type": "message",
            "channel": "C1",
            "channel_type": "channel",
            "user": "U1",
            "text": f"Nachricht {n}",
            "ts": slack_ts(),
        }
        assert (await env.sender.event(event))[0] == 200
    want = [f"Alice (Slack): Nachricht {n}" for n in range(100)]
    for _ in range(100):
        await env.settle()
        if [t for t in env.telegram_shown() if "Nachricht" in t] == want:
            break
    assert [t for t in env.telegram_shown() if "Nachricht" in t] == want
    assert [t for t in env.discord_shown(env.dc_lobby) if "Nachricht" in t] == [
        f"[Alice (Slack)] Nachricht {n}" for n in range(100)
    ]
    assert env.tg.limit_refusals == []
    assert env.discord.allowance is not None and env.discord.allowance.refusals == []


async def test_privacy_mode_on_is_reported_to_the_admin(make_bridge: BridgeFactory) -> None:
    env = Env(make_bridge, privacy=True)
    await env.start_fakes()
    await env.start_bot()
    try:
        await env.admin("telegram", str(GROUP), "group", "new lobby")
        await env.admin("telegram", str(GROUP), "link", "lobby")
        reply = await env.admin("telegram", str(GROUP), "group", "set lobby relay")
        assert "Telegram: the bot's privacy mode is on" in reply
        assert "/setprivacy" in reply
    finally:
        await env.close()
