"""The Telegram adapter against a fake Bot API: the real python-telegram-bot client talks
HTTP to ``tests/fakes/telegram.py``; we assert what the chats would show."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select, update

from adapters.telegram import TelegramAdapter, render_html
from bridge.clock import FakeClock
from bridge.core import Bridge
from bridge.http import HttpServer
from bridge.messages import (
    AccountRef,
    Bold,
    ChannelRef,
    FileAttachment,
    Link,
    Mention,
    Message,
    Text,
)
from bridge.models import Channel, ChannelLink, Group, OutboxRow, ProcessedEvent
from bridge.models.inbox import InboxEvent
from tests.conftest import SPEED
from tests.fakes.telegram import FakeTelegram, parse_html

TOKEN = "123:ABC"
ADMIN = 42
GROUP = -4001  # a basic group
FORUM = -1001234567890  # a forum supergroup

JSON = dict[str, Any]


class World:
    """One fake Telegram, one bridge with the Telegram adapter, and some people."""

    def __init__(self, fake: FakeTelegram, bridge: Bridge, adapter: TelegramAdapter) -> None:
        self.fake = fake
        self.bridge = bridge
        self.adapter = adapter
        self.admin = fake.user(ADMIN, "Ada", username="ada_admin")
        self.bob = fake.user(7, "Bob", username="bob_builder", language_code="de")
        self.group = fake.group(GROUP, "Idea room")
        self.forum = fake.group(FORUM, "Company forum", forum=True)
        fake.topic(FORUM, 7, "Ideas")
        fake.topic(FORUM, 9, "Trades")

    async def command(
        self,
        user: JSON,
        chat: JSON,
        text: str,
        thread: int | None = None,
        expect: int = 1,
        method: str = "sendMessage",
    ) -> list[Any]:
        """Send a command; wait until the bot made ``expect`` more successful calls."""
        before = len(self.fake.sent(method=None))
        self.fake.command(user, chat, text, thread)
        calls = await self.fake.wait_for(
            lambda: len(now := self.fake.sent(method=None)) >= before + expect and now[before:]
        )
        await asyncio.sleep(0)
        return [c for c in calls if method is None or c.method == method]

    async def drain(self) -> int:
        return await self.bridge.outbox.drain(include_delayed=True)


StartWorld = Callable[..., Awaitable[World]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(token=TOKEN, speed=SPEED).start()
    yield server
    await server.stop()


@pytest.fixture
async def start_world(make_bridge: Any, fake: FakeTelegram) -> AsyncIterator[StartWorld]:
    running: list[TelegramAdapter] = []
    servers: list[HttpServer] = []

    async def start(http: bool = False, clk: FakeClock | None = None, **telegram: Any) -> World:
        sections: dict[str, Any] = {
            "telegram": {"token": TOKEN, "base_url": fake.base_url, **telegram},
            "community": {"admins": [f"telegram:{ADMIN}", "console:admin"]},
        }
        port = 0
        if http:
            port = _free_port()
            # Telegram calls https on 443, 80, 88 or 8443: a proxy forwards to our port
            sections["http"] = {"port": port, "public_url": "https://bot.example.org"}
            fake.proxy = f"http://127.0.0.1:{port}"
        bridge = await make_bridge(clk=clk, **sections)
        adapter = TelegramAdapter(bridge)
        bridge.add_adapter(adapter)
        if http:
            server = HttpServer(bridge)
            await server.start("127.0.0.1", port)
            servers.append(server)
        await adapter.start()
        running.append(adapter)
        return World(fake, bridge, adapter)

    yield start
    for adapter in running:
        await adapter.stop()
    for server in servers:
        await server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def links(bridge: Bridge) -> list[tuple[str, str, str, bool]]:
    async with bridge.db.transaction() as s:
        rows = (
            await s.execute(
                select(Channel.chat_id, Channel.thread_id, Group.slug, ChannelLink.active)
                .join(ChannelLink, ChannelLink.channel_id == Channel.id)
                .join(Group, Group.id == ChannelLink.group_id)
                .order_by(Channel.chat_id, Channel.thread_id)
            )
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def text_of(call: Any) -> str:
    return str(call.result.get("text") or call.result.get("caption") or "")


# ------------------------------------------------------------------------------ linking


async def test_admin_links_a_group_chat_and_two_forum_topics(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    fake.start_bot(w.admin)
    await fake.wait_sent(1, chat_id=ADMIN)  # the welcome
    # ephemeral answers to a group command go to the admin's private chat
    [reply] = await w.command(w.admin, w.group, "/group new ideas")
    assert reply.params["chat_id"] == str(ADMIN)
    assert text_of(reply) == "From Idea room:\nCreated the group ideas (internal)." or text_of(
        reply
    ).startswith("From Idea room:\n")
    await w.command(w.admin, w.group, "/group new trades")

    [linked] = await w.command(w.admin, w.group, "/link ideas")
    assert linked.params["chat_id"] == str(GROUP)
    assert text_of(linked) == (
        "This channel is now linked to the group ideas. Type /help to see what you can do here."
    )
    assert linked.result["reply_to_message"]["text"] == "/link ideas"
    assert {"type": "bold", "offset": text_of(linked).index("ideas"), "length": 5} in linked.result[
        "entities"
    ]

    [t7] = await w.command(w.admin, w.forum, "/link@community_bot ideas", thread=7)
    [t9] = await w.command(w.admin, w.forum, "/link trades", thread=9)
    assert t7.params["message_thread_id"] == "7" and t9.params["message_thread_id"] == "9"
    assert t7.result["is_topic_message"] and t9.result["chat"]["id"] == FORUM
    assert await links(w.bridge) == [
        (str(FORUM), "7", "ideas", True),
        (str(FORUM), "9", "trades", True),
        (str(GROUP), "", "ideas", True),
    ]
    async with w.bridge.db.transaction() as s:
        names = set((await s.execute(select(Channel.name))).scalars())
    assert {"Company forum / Ideas", "Company forum / Trades", "Idea room"} <= names

    # content for the group reaches the chat and the topic, each in its place
    async with w.bridge.db.transaction() as s:
        group_id = (await s.execute(select(Group.id).where(Group.slug == "ideas"))).scalar_one()
        await w.bridge.outbox.post_to_group(s, group_id, Message(parts=(Text(text="news"),)))
    await w.drain()
    news = [c for c in fake.sent() if text_of(c) == "news"]
    assert sorted((c.params["chat_id"], c.params.get("message_thread_id")) for c in news) == [
        (str(FORUM), "7"),
        (str(GROUP), None),
    ]


async def test_member_may_not_link_and_hears_it_in_the_group_without_dm(
    start_world: StartWorld,
) -> None:
    w = await start_world()
    [reply] = await w.command(w.bob, w.group, "/link ideas")
    # Bob never started the bot: the answer is a reply to his message, in German (his locale),
    # with a deep link to open the private chat
    assert reply.params["chat_id"] == str(GROUP)
    assert reply.result["reply_to_message"]["from"]["id"] == 7
    text = text_of(reply)
    assert text.startswith("Nur Admins dürfen /link verwenden.")
    assert "einen privaten Chat mit mir" in text
    link = next(e for e in reply.result["entities"] if e["type"] == "text_link")
    assert link["url"] == "https://t.me/community_bot?start=hello"
    assert await links(w.bridge) == []


# ------------------------------------------------------------------------------ commands


async def test_help_and_the_published_command_lists(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    default = [c["command"] for c in fake.commands[("default", "")]]
    admins = [c["command"] for c in fake.commands[("all_chat_administrators", "")]]
    assert "help" in default and "link" not in default and "role" not in default
    assert {"help", "link", "unlink", "role", "group"} <= set(admins)
    assert fake.commands[("all_group_chats", "")] == fake.commands[("default", "")]
    german = {c["command"]: c["description"] for c in fake.commands[("default", "de")]}
    english = {c["command"]: c["description"] for c in fake.commands[("default", "en")]}
    assert german["help"] != english["help"]
    assert all(1 <= len(c["description"]) <= 256 for cmds in fake.commands.values() for c in cmds)

    fake.start_bot(w.bob)
    [welcome] = await fake.wait_sent(1, chat_id=7)
    assert text_of(welcome).startswith("Hallo Bob! Ich bin der Bot von Test Community.")
    [reply] = await w.command(w.bob, fake.chats[7], "/help")
    assert text_of(reply).startswith("Befehle, die du hier nutzen kannst:")
    assert "/link" not in text_of(reply)


async def test_commands_for_another_bot_are_ignored(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    fake.command(w.admin, w.group, "/help@other_bot")
    fake.command(w.admin, w.group, "/groups@Community_Bot")
    [reply] = await fake.wait_sent(1)
    assert "no groups yet" in text_of(reply)
    # updates are handled in order: the first one was done before the second was answered
    assert len(fake.sent()) == 1


async def test_private_start_releases_held_messages(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    await w.command(w.bob, w.group, "/groups")  # Bob is known, has not started the bot
    async with w.bridge.db.transaction() as s:
        from bridge.services import identity

        acc = await identity.find_account(s, "telegram", "7")
        assert acc is not None and not acc.dm_open
        bob = Mention(text="Bob", accounts={"telegram": "7", "slack": "U7"})
        await w.bridge.outbox.notify(
            s,
            acc.person_id,
            Message(parts=(Text(text="psst"),)),
            fallback_channel=f"telegram:{GROUP}",
            fallback_message=Message(parts=(bob, Text(text=": news for you"))),
        )
    await w.drain()
    assert "psst" not in fake.texts()
    # the group gets a short mention with a deep link to the private chat
    [call] = [c for c in fake.sent(chat_id=GROUP) if "news for you" in text_of(c)]
    assert text_of(call) == (
        "Bob: news for you\n\nOpen a private chat with me: a message is waiting for you there."
    )
    mention, link = call.result["entities"]
    assert mention["type"] == "text_mention" and mention["user"]["id"] == 7
    assert link["url"] == "https://t.me/community_bot?start=hello"
    fake.start_bot(w.bob, payload="hello")
    await fake.wait_sent(1, chat_id=7)
    await w.drain()
    texts = fake.texts(chat_id=7)
    assert texts[0].startswith("Hallo Bob!") and "1 Nachricht hat auf dich gewartet" in texts[0]
    assert texts[1:] == ["psst"]


async def test_anonymous_admin_is_told_to_show_themselves(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    anonymous = {
        "id": 1087968824,
        "is_bot": True,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    }
    message = fake._message(anonymous, w.group, "/link ideas", sender_chat=w.group)
    message["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
    fake.push({"message": message})
    [reply] = await fake.wait_sent(1)
    assert "Remain anonymous" in text_of(reply)
    assert await links(w.bridge) == []


# ------------------------------------------------------------------------------ escaping


async def test_user_text_arrives_verbatim_and_unformatted(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    evil = "<b>x</b>&amp;@everyone"
    [reply] = await w.command(w.admin, fake.private_chat(w.admin), f"/help {evil}")
    assert text_of(reply).startswith(f"I don't know the command /{evil}.")
    assert "entities" not in reply.result
    assert "&amp;amp;" in reply.params["text"]

    eve = fake.user(77, "<b>Eve</b> & Co", username="eve_here")
    await w.command(eve, w.group, "/groups")
    [granted] = await w.command(w.admin, fake.chats[ADMIN], "/role @eve_here member")
    text = text_of(granted)
    assert text == "<b>Eve</b> & Co is now member in the whole community."
    entities = granted.result["entities"]
    mention = next(e for e in entities if e["type"] == "text_mention")
    assert mention["user"]["id"] == 77 and mention["offset"] == 0
    assert mention["length"] == len("<b>Eve</b> & Co")
    assert [e["type"] for e in entities] == ["text_mention", "bold"]


def test_render_html_escapes_every_part_and_splits_long_text() -> None:
    parts = (
        Text(text="a <i>&"),
        Bold(text="<b>"),
        Link(url='https://x.org/?a="1"&b=<2>', text="<x>"),
        Mention(text="Zoë <3", accounts={"telegram": "5"}),
        Mention(text="@everyone", accounts={"slack": "U1"}),
    )
    [html_text] = render_html(parts)
    text, entities = parse_html(html_text)
    assert text == "a <i>&<b><x>Zoë <3@@everyone"
    assert [e["type"] for e in entities] == ["bold", "text_link", "text_mention"]
    assert entities[1]["url"] == 'https://x.org/?a="1"&b=<2>'
    long = tuple(Text(text=f"line {i} " + "x" * 90 + "\n") for i in range(100))
    chunks = render_html(long)
    assert len(chunks) == 3
    shown = [parse_html(c)[0] for c in chunks]
    # numbered parts, cut at line ends, nothing lost
    assert [t.rsplit("\n", 1)[1] for t in shown] == ["(1/3)", "(2/3)", "(3/3)"]
    joined = "\n".join(t.rsplit("\n", 1)[0] for t in shown)
    assert joined == "".join(p.text for p in long).strip("\n")


# ------------------------------------------------------------------------------ buttons


async def test_forged_button_has_expired_and_changes_nothing(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    card = await w.adapter.send(
        ChannelRef(platform="telegram", chat=str(GROUP)), Message(parts=(Text(text="card"),))
    )
    message = fake.messages[(GROUP, int(card))]
    for data in ("i.sup|1|AAAAAAAA", "garbage"):
        update = fake.press(w.bob, message, data=data)
        query_id = update["callback_query"]["id"]
        answer = await fake.wait_for(lambda q=query_id: fake.answers.get(q))
        assert answer["text"] == "Diese Schaltfläche ist nicht mehr gültig."
        assert answer["show_alert"] is False
    async with w.bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(ProcessedEvent))).scalar() == 0


async def test_a_button_works_only_where_it_was_shown_and_is_renewed_when_old(
    start_world: StartWorld, clock: FakeClock
) -> None:
    from tests.chat import Chat
    from tests.conftest import attach_console

    w = await start_world()
    fake = w.fake
    printed: list[str] = []
    chat = Chat(w.bridge, attach_console(w.bridge, printed), printed)
    await chat("/group new ideas")
    await w.command(w.admin, w.group, "/link ideas")
    await w.command(w.bob, w.group, "/idea Better coffee")
    await w.drain()

    def card() -> JSON:
        return next(
            m for (c, _), m in fake.messages.items() if c == GROUP and m.get("reply_markup")
        )

    def support(message: JSON) -> str:
        return str(message["reply_markup"]["inline_keyboard"][0][0]["callback_data"])

    async def press(chat_message: JSON, data: str) -> str:
        update = fake.press(w.bob, chat_message, data=data)
        answer = await fake.wait_for(lambda: fake.answers.get(update["callback_query"]["id"]))
        await w.drain()
        return str(answer["text"])

    # the card's Support, pressed on a message of another chat: nothing changes
    fake.group(-1009, "Elsewhere")
    other = await w.adapter.send(
        ChannelRef(platform="telegram", chat="-1009"), Message(parts=(Text(text="hi"),))
    )
    token = support(card())
    assert await press(fake.messages[(-1009, int(other))], token) == (
        "Diese Schaltfläche ist nicht mehr gültig."
    )
    assert "0 supporters" in card()["text"]

    # a week and a day later the card's own button is too old: the card is drawn anew
    clock.advance(timedelta(days=8))
    assert await press(card(), token) == (
        "Diese Schaltfläche ist nicht mehr gültig. "
        "Ich habe die Nachricht erneuert; bitte drück die Schaltfläche noch einmal."
    )
    fresh = support(card())
    assert fresh != token and "0 supporters" in card()["text"]
    assert await press(card(), fresh) == "Du unterstützt jetzt I-1 (1 Unterstützung)."
    assert "1 supporter" in card()["text"]


# ------------------------------------------------------------------------------ webhook


async def test_webhook_checks_the_secret_token(start_world: StartWorld) -> None:
    w = await start_world(http=True, mode="webhook", webhook_secret="s3cret-token")
    fake = w.fake
    port = w.bridge.config.http.port
    assert fake.webhook["url"] == "https://bot.example.org/telegram/webhook"
    assert fake.webhook["secret_token"] == "s3cret-token"
    update = {"update_id": 1, "message": fake._message(w.admin, w.group, "/group new x")}
    url = f"http://127.0.0.1:{port}/telegram/webhook"  # behind the proxy
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 401
    async with w.bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(ProcessedEvent))).scalar() == 0
        assert (await s.execute(select(func.count()).select_from(Group))).scalar() == 0
    assert fake.sent() == []

    # the fake pushes updates itself, with the secret given in setWebhook
    fake.command(w.admin, w.group, "/groups")
    [reply] = await fake.wait_sent(1)
    assert "no groups yet" in text_of(reply)
    await fake.wait_for(lambda: fake.webhook_responses == [200])


async def test_a_repeated_update_is_processed_once(
    start_world: StartWorld, make_bridge: Any
) -> None:
    w = await start_world(http=True, mode="webhook", webhook_secret="tok")
    fake = w.fake
    # Telegram retries a webhook delivery: same update_id twice
    first = fake.command(w.admin, w.group, "/group new ideas", update_id=777)
    await fake.wait_sent(1)
    fake.push(first, update_id=777)
    await fake.wait_for(lambda: len(fake.webhook_responses) == 2)
    assert len(fake.sent()) == 1
    # ... and once more to another process of the bot (after a restart): the core dedupes
    await w.adapter.stop()
    other = await start_world(http=True, mode="webhook", webhook_secret="tok")
    fake.push(first, update_id=777)
    await fake.wait_for(lambda: len(fake.webhook_responses) == 3)
    assert fake.webhook_responses == [200, 200, 200]
    assert len(fake.sent()) == 1
    async with other.bridge.db.transaction() as s:
        assert (await s.execute(select(func.count()).select_from(Group))).scalar() == 1

    # an update stored but not handled yet (another process has it, or had it when it
    # died) is not taken as done: Telegram is told to send it again later
    trades = fake.command(w.admin, w.group, "/group new trades", update_id=778)
    await fake.wait_for(lambda: len(fake.webhook_responses) == 4)
    async with other.bridge.db.transaction() as s:
        await s.execute(
            update(InboxEvent)
            .where(InboxEvent.key == "778")
            .values(status="pending", owner="gone/1")
        )
    fake.push(trades, update_id=778)
    await fake.wait_for(lambda: len(fake.webhook_responses) == 5)
    assert fake.webhook_responses[-1] == 503


# ------------------------------------------------------------------------------ errors


async def test_rate_limit_is_honoured_and_nothing_dropped(
    start_world: StartWorld, clock: FakeClock
) -> None:
    w = await start_world()
    fake = w.fake
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", {"retry_after": 5})
    async with w.bridge.db.transaction() as s:
        await w.bridge.outbox.post(s, f"telegram:{GROUP}", Message(parts=(Text(text="hi"),)))
    assert await w.bridge.outbox.drain() == 0
    assert [c.error["error_code"] for c in fake.sent(ok=False)] == [429]  # type: ignore[index]
    async with w.bridge.db.transaction() as s:
        row = (await s.execute(select(OutboxRow))).scalar_one()
        assert row.status == "pending" and row.not_before == clock.now() + timedelta(seconds=5)
    clock.advance(4)
    assert await w.bridge.outbox.drain() == 0
    clock.advance(1)
    assert await w.bridge.outbox.drain() == 1
    assert await w.bridge.outbox.drain() == 0
    assert fake.texts(GROUP) == ["hi"]

    # a direct answer that hits the limit waits in the outbox instead of being lost
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", {"retry_after": 3})
    fake.command(w.admin, w.group, "/groups")
    await fake.wait_for(lambda: len(fake.sent(ok=False)) == 2)
    await eventually(lambda: _pending(w.bridge))
    clock.advance(3)
    assert await w.bridge.outbox.drain() == 1
    assert len([t for t in fake.texts(GROUP) if "no groups yet" in t]) == 1


async def test_a_rate_limit_on_part_two_sends_part_one_once(
    start_world: StartWorld, clock: FakeClock
) -> None:
    """Issue 12: a 429 on the second part of a split message must not post the first
    again when the delivery is retried."""
    w = await start_world()
    fake = w.fake
    fake.fail_next(
        "sendMessage",
        429,
        "Too Many Requests: retry after 2",
        {"retry_after": 2},
        when=lambda params: "(2/2)" in str(params.get("text", "")),
    )
    long = "\n\n".join(f"Absatz {i}: " + "Lieferung " * 30 for i in range(20))
    async with w.bridge.db.transaction() as s:
        await w.bridge.outbox.post(s, f"telegram:{GROUP}", Message(parts=(Text(text=long),)))
    assert await w.bridge.outbox.drain() == 0  # part 1 went, part 2 waits out the 429
    clock.advance(2)
    assert await w.bridge.outbox.drain() == 1
    shown = fake.texts(GROUP)
    assert len(shown) == 2 and shown[0].endswith("(1/2)") and shown[1].endswith("(2/2)")


async def _pending(bridge: Bridge) -> bool:
    async with bridge.db.transaction() as s:
        n = (
            await s.execute(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
            )
        ).scalar()
    return bool(n)


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10.0) -> Any:
    """Wait (bounded) for a condition the bot reaches asynchronously (database state)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


async def test_bot_removed_from_a_group_pauses_its_links_and_tells_admins(
    start_world: StartWorld,
) -> None:
    w = await start_world()
    fake = w.fake
    fake.start_bot(w.admin)
    await fake.wait_sent(1, chat_id=ADMIN)
    await w.command(w.admin, w.forum, "/group new ideas", thread=7)
    await w.command(w.admin, w.forum, "/link ideas", thread=7)
    await w.command(w.admin, w.forum, "/link ideas", thread=9)
    fake.kick_bot(FORUM, by=w.bob)

    async def paused() -> bool:
        return not any(active for *_, active in await links(w.bridge))

    await eventually(paused)
    assert await links(w.bridge) == [
        (str(FORUM), "7", "ideas", False),
        (str(FORUM), "9", "ideas", False),
    ]
    await w.drain()
    told = [t for t in fake.texts(ADMIN) if t.startswith("I can no longer post in")]
    assert len(told) == 2
    assert "removed from the chat by Bob" in told[0] and "Company forum / Ideas" in told[0]
    # content for the group no longer goes there
    async with w.bridge.db.transaction() as s:
        gid = (await s.execute(select(Group.id))).scalar_one()
        assert await w.bridge.outbox.post_to_group(s, gid, Message(parts=(Text(text="x"),))) == []


async def test_a_lost_chat_found_on_send_pauses_the_link(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    await w.command(w.admin, w.group, "/group new ideas")
    await w.command(w.admin, w.group, "/link ideas")
    fake.member_status[GROUP] = "kicked"  # removed while the bot was offline
    async with w.bridge.db.transaction() as s:
        await w.bridge.outbox.post(s, f"telegram:{GROUP}", Message(parts=(Text(text="x"),)))
    await w.drain()
    assert await links(w.bridge) == [(str(GROUP), "", "ideas", False)]


async def test_a_migrated_group_keeps_its_link(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    await w.command(w.admin, w.group, "/group new ideas")
    await w.command(w.admin, w.group, "/link ideas")
    fake.migrate(GROUP, -100777, by=w.admin)

    async def moved() -> bool:
        return (await links(w.bridge))[0][0] == "-100777"

    await eventually(moved)
    assert await links(w.bridge) == [("-100777", "", "ideas", True)]
    async with w.bridge.db.transaction() as s:
        gid = (await s.execute(select(Group.id))).scalar_one()
        await w.bridge.outbox.post_to_group(s, gid, Message(parts=(Text(text="after"),)))
    await w.drain()
    assert fake.texts(-100777)[-1] == "after"


async def test_a_send_to_a_migrated_group_moves_the_link_and_arrives(
    start_world: StartWorld,
) -> None:
    w = await start_world()
    fake = w.fake
    await w.command(w.admin, w.group, "/group new ideas")
    await w.command(w.admin, w.group, "/link ideas")
    # Telegram migrated the group; the bot has not seen the service message yet
    fake.chats[-100888] = {"id": -100888, "type": "supergroup", "title": "Idea room"}
    fake.member_status[-100888] = "member"
    fake.migrated[GROUP] = -100888
    async with w.bridge.db.transaction() as s:
        await w.bridge.outbox.post(s, f"telegram:{GROUP}", Message(parts=(Text(text="y"),)))
    await w.drain()
    failed = [c for c in fake.sent(ok=False) if c.params["chat_id"] == str(GROUP)]
    assert failed[0].error["parameters"] == {"migrate_to_chat_id": -100888}  # type: ignore[index]
    assert fake.texts(-100888) == ["y"]
    assert await links(w.bridge) == [("-100888", "", "ideas", True)]


# ------------------------------------------------------------------------------ outgoing


async def test_edits_files_and_unchanged_content(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    here = ChannelRef(platform="telegram", chat=str(GROUP))
    msg = Message(parts=(Bold(text="Card"), Text(text=" 1")))
    mid = await w.adapter.send(here, msg)
    await w.adapter.edit(here, mid, msg)  # "message is not modified" is no error
    await w.adapter.edit(here, mid, Message(parts=(Bold(text="Card"), Text(text=" 2"))))
    assert fake.messages[(GROUP, int(mid))]["text"] == "Card 2"
    edits = fake.sent("editMessageText", ok=False)
    assert "message is not modified" in edits[0].error["description"]  # type: ignore[index]

    doc = Message(
        parts=(Text(text="Export <all>"),),
        file=FileAttachment(name="s-1.csv", content=b"a,b\n1,2\n"),
    )
    did = await w.adapter.send(here, doc)
    [sent] = fake.sent("sendDocument")
    assert sent.files["document"] == ("s-1.csv", b"a,b\n1,2\n")
    assert sent.result["caption"] == "Export <all>"
    await w.adapter.edit(here, did, doc)  # a file's message: only its buttons may change
    assert fake.sent("editMessageReplyMarkup", ok=False)

    gone = ChannelRef(platform="telegram", chat="-999")
    from bridge.adapter import ChannelGone

    with pytest.raises(ChannelGone):
        await w.adapter.send(gone, msg)


async def test_stop_is_clean(start_world: StartWorld) -> None:
    w = await start_world()
    assert w.adapter.state == "ready"
    await w.adapter.stop()
    assert w.adapter.state == "stopped" and w.adapter.app is None


# ------------------------------------------------------------------------------ end to end


async def test_ideas_questions_and_surveys_from_telegram_match_the_console(
    start_world: StartWorld,
) -> None:
    """An admin links a group chat and a forum topic; Bob proposes, supports, comments,
    asks and answers surveys from Telegram; console users of the same group see the same."""
    from tests.chat import Chat
    from tests.conftest import attach_console

    w = await start_world()
    fake = w.fake
    printed: list[str] = []
    chat = Chat(w.bridge, attach_console(w.bridge, printed), printed)
    await chat("/group new ideas", "/group new trades", "/group new desk hostdesk", "/link ideas")
    await chat.as_("admin", "#desk")
    await chat("/link desk")
    fake.start_bot(w.admin)
    await fake.wait_sent(1, chat_id=ADMIN)
    await w.command(w.admin, w.group, "/link ideas")
    await w.command(w.admin, w.forum, "/link@community_bot ideas", thread=7)
    await w.command(w.admin, w.forum, "/link trades", thread=9)

    def cards(needle: str) -> dict[tuple[str, str | None], Any]:
        """The latest message containing ``needle`` per Telegram chat/topic, as shown now."""
        found: dict[tuple[str, str | None], Any] = {}
        for call in fake.sent():
            if needle in text_of(call):
                key = (call.params["chat_id"], call.params.get("message_thread_id"))
                found[key] = fake.messages[(int(key[0]), call.result["message_id"])]
        return found

    def buttons(message: JSON) -> list[str]:
        return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]

    async def pressed(user: JSON, message: JSON, button: int) -> JSON:
        update = fake.press(user, message, button=button)
        answer: JSON = await fake.wait_for(lambda: fake.answers.get(update["callback_query"]["id"]))
        await w.drain()
        return answer

    # Bob proposes an idea in the group chat; user text stays text
    [thanks] = await w.command(w.bob, w.group, "/idea Better coffee | Beans & <b>local</b>")
    assert text_of(thanks).startswith("Danke! Deine Idee I-1 steht jetzt")
    assert thanks.result["reply_to_message"]["from"]["id"] == 7  # not started: in the group
    await w.drain()
    ideas = cards("I-1 Better coffee")
    assert set(ideas) == {(str(GROUP), None), (str(FORUM), "7")}  # not the trades topic
    card = ideas[(str(GROUP), None)]
    assert card["text"] == (
        "💡 I-1 Better coffee\nBeans & <b>local</b>\n"
        "Proposed by Bob in ideas · Status: new · 0 supporters"
    )
    assert buttons(card) == ["Support (0)", "Comment"]
    assert "[#general] 💡 I-1 Better coffee" in chat.transcript
    assert "  Beans & <b>local</b>" in chat.transcript

    # Carol supports it on the console, Bob on Telegram: every copy shows 2
    await chat.as_("carol", "#general")
    assert "You support I-1 now (1 supporter)." in await chat(":press 1")
    await w.drain()
    answer = await pressed(w.bob, card, 0)
    assert answer["text"] == "Du unterstützt jetzt I-1 (2 Unterstützungen)."
    for shown in cards("I-1 Better coffee").values():
        assert buttons(shown) == ["Support (2)", "Comment"] and "2 supporters" in shown["text"]
    await chat.flush()
    assert "  [1] Support (2)  [2] Comment" in chat.transcript
    again = await pressed(w.bob, card, 0)  # once per person
    assert again["text"].startswith("Du unterstützt I-1 schon; nichts geändert.")
    assert buttons(cards("I-1 Better coffee")[(str(GROUP), None)])[0] == "Support (2)"

    # Comment: Telegram has no forms; the alert says what to type
    answer = await pressed(w.bob, card, 1)
    assert answer == {
        "text": "Zum Kommentieren tippe /comment I-1 und danach deinen Kommentar.",
        "show_alert": True,
        "url": None,
    }
    await w.command(w.bob, w.group, "/comment I-1 Yes & <i>please</i>")
    await w.drain()
    comments = [c for c in fake.sent() if text_of(c) == "💬 Bob on I-1: Yes & <i>please</i>"]
    assert {c.params["chat_id"] for c in comments} == {str(GROUP), str(FORUM)}
    under = {c.params["chat_id"]: c.result["reply_to_message"]["message_id"] for c in comments}
    assert under[str(GROUP)] == card["message_id"]
    assert "[#general] ↳ 💬 @Bob on I-1: Yes & <i>please</i>" in chat.transcript

    # a question from the forum topic, answered by a host on the console
    [asked] = await w.command(w.bob, w.forum, "/ask Where is the <b>badge</b> office?", thread=7)
    assert "Q-1" in text_of(asked) and asked.params["message_thread_id"] == "7"
    await w.drain()
    assert (
        "[#desk] Q-1 from Bob in Company forum / Ideas (telegram), group ideas:" in chat.transcript
    )
    await chat.as_("admin", "#desk")
    out = await chat("/answer Q-1 At the front desk & ask for <Kim>")
    assert "Your answer to Q-1 went to Bob" in out
    await w.drain()
    answers = [c for c in fake.sent() if "answered your question Q-1" in text_of(c)]
    assert text_of(answers[-1]).endswith("At the front desk & ask for <Kim>")
    assert (str(FORUM), "7") in {
        (c.params["chat_id"], c.params.get("message_thread_id")) for c in answers
    }

    # a survey started on the console, answered by button in Telegram
    await chat.as_("admin", "#general")
    await chat('/survey new "Lunch?" "Pizza & <Pasta>" "Sushi"')
    await w.drain()
    survey = cards("S-1: Lunch?")[(str(GROUP), None)]
    assert buttons(survey) == ["Pizza & <Pasta> (0)", "Sushi (0)"]
    answer = await pressed(w.bob, survey, 0)
    assert "Pizza & <Pasta>" in answer["text"]
    assert buttons(cards("S-1: Lunch?")[(str(GROUP), None)]) == ["Pizza & <Pasta> (1)", "Sushi (0)"]
    out = await chat("/survey results S-1")
    assert "Pizza & <Pasta>: Bob" in out and "1 respondent" in out

    # a form survey runs in the private chat, which Bob opens through the deep link
    from bridge.services import surveys as survey_svc

    async with w.bridge.db.transaction() as session:
        group = (await session.execute(select(Group).where(Group.slug == "ideas"))).scalar_one()
        spec = survey_svc.SurveySpec(
            title="Team day",
            questions=[
                survey_svc.QuestionSpec(kind="text", text="What should we improve?"),
                survey_svc.QuestionSpec(kind="single", text="Come again?", options=["yes", "no"]),
            ],
        )
        assert w.bridge.community_id is not None
        await survey_svc.create_survey(
            session, w.bridge, w.bridge.community_id, group, None, spec, "form"
        )
    await w.drain()
    form = cards("S-2")[(str(GROUP), None)]
    answer = await pressed(w.bob, form, 0)  # Take part
    assert answer["text"] == (
        "Öffne einen privaten Chat mit mir, um S-2 zu beantworten: die erste Frage wartet dort."
    )
    assert fake.texts(7) == []  # held until Bob opens the chat
    fake.start_bot(w.bob, payload="hello")
    await fake.wait_sent(1, chat_id=7)
    await w.drain()
    welcome, first = fake.texts(7)
    assert "1 Nachricht hat auf dich gewartet" in welcome
    assert "What should we improve?" in first
    fake.text(w.bob, fake.chats[7], "More <coffee> & cake")
    await fake.wait_for(lambda: "Come again?" in fake.texts(7)[-1])
    question = fake.messages[(7, fake.sent(chat_id=7)[-1].result["message_id"])]
    await pressed(w.bob, question, 0)
    await fake.wait_for(
        lambda: "Danke! Deine Antworten zu S-2 sind gespeichert." in fake.texts(7)[-1]
    )
    assert fake.texts(7)[2].startswith("✓ Notiert.")
    out = await chat("/survey results S-2")
    assert "More <coffee> & cake" in out

    # console users see the same records
    out = await chat("/ideas")
    assert "I-1 Better coffee — 2 votes — new" in out


# ------------------------------------------------------------------------------ running


async def test_run_starts_the_telegram_adapter_from_the_environment(
    db_url: str, fake: FakeTelegram, tmp_path: Any
) -> None:
    from bridge.config import load_config
    from bridge.runtime import Runtime

    toml = tmp_path / "bot.toml"
    toml.write_text(
        f'[database]\nurl = "{db_url}"\n[http]\nport = 0\n'
        f'[community]\nadmins = ["telegram:{ADMIN}"]\n'
        f'[telegram]\nbase_url = "{fake.base_url}"\n',
        encoding="utf-8",
    )
    config = load_config(toml, env={"TELEGRAM_BOT_TOKEN": TOKEN})
    assert config.configured_platforms() == ["telegram"]
    runtime = Runtime(config)
    bridge = await runtime.start()
    try:
        assert runtime.http is not None
        url = f"http://127.0.0.1:{runtime.http.port}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            health = await resp.json()
        assert health["adapters"]["telegram"] == {"state": "ready"}
        admin = fake.user(ADMIN, "Ada")
        group = fake.group(GROUP, "Idea room")
        fake.command(admin, group, "/group new ideas")
        fake.command(admin, group, "/link ideas")
        await fake.wait_for(
            lambda: any("now linked to the group ideas" in t for t in fake.texts(GROUP))
        )
        async with bridge.db.transaction() as s:
            gid = (await s.execute(select(Group.id))).scalar_one()
            await bridge.outbox.post_to_group(s, gid, Message(parts=(Text(text="by worker"),)))
        await fake.wait_for(lambda: "by worker" in fake.texts(GROUP))  # the delivery worker
    finally:
        await runtime.stop()
    assert bridge.adapters["telegram"].state == "stopped"


async def test_a_wrong_token_fails_to_start(make_bridge: Any, fake: FakeTelegram) -> None:
    bridge = await make_bridge(telegram={"token": "123:WRONG", "base_url": fake.base_url})
    adapter = TelegramAdapter(bridge)
    from telegram.error import InvalidToken

    with pytest.raises(InvalidToken):
        await adapter.start()
    assert adapter.state == "error"
    webhook = await make_bridge(
        telegram={"token": TOKEN, "base_url": fake.base_url, "mode": "webhook"}
    )
    with pytest.raises(ValueError, match="webhook_secret"):
        await TelegramAdapter(webhook).start()


async def test_added_to_a_group_it_says_how_to_start(start_world: StartWorld) -> None:
    w = await start_world()
    fake = w.fake
    chat = fake.group(-4002, "New room")
    fake.member_status[-4002] = "left"
    fake.add_bot(-4002, by=w.admin)
    [hello] = await fake.wait_sent(1, chat_id=-4002)
    assert text_of(hello).startswith("Hello! An admin can link this chat, or one topic of it,")
    assert "/link <group>" in text_of(hello) and "I only see commands here" in text_of(hello)
    [help_] = await w.command(w.bob, chat, "/start")  # in a group: what the bot can do
    assert text_of(help_).startswith("Befehle, die du hier nutzen kannst:")


# ------------------------------------------------------------------ replies for one person


async def _in_group(w: World, user: JSON, text: str) -> list[str]:
    """What the group chat shows after ``user`` typed ``text`` there (and deliveries ran)."""
    before = len(w.fake.texts(GROUP))
    w.fake.command(user, w.group, text)
    await w.fake.wait_for(lambda: len(w.fake.texts(GROUP)) > before)
    await w.drain()
    await asyncio.sleep(0.05)
    return w.fake.texts(GROUP)[before:]


async def test_a_private_reply_never_shows_in_the_group_and_waits_for_the_person(
    start_world: StartWorld,
) -> None:
    """Bob never started the bot. What is for him alone (his /connect code, his survey's
    results with who chose what, its CSV export, the host queue) is never posted in the
    group: he gets a hint there, and the replies wait until he opens the private chat."""
    w = await start_world()
    fake = w.fake
    fake.start_bot(w.admin)
    await fake.wait_sent(1, chat_id=ADMIN)
    await w.command(w.admin, w.group, "/group new ideas")
    await w.command(w.admin, w.group, "/link ideas")
    await w.command(w.admin, w.group, "/role telegram:7 host ideas")
    await w.command(w.admin, w.group, '/ask "Where is the key?"')
    await _in_group(w, w.bob, '/survey new "Lunch?" "Pizza" "Salad"')
    fake.press(w.admin, _last_card(w), button=0)  # Ada chooses Pizza
    await fake.wait_sent(1, method="answerCallbackQuery")
    await w.drain()

    hint = (
        "Ich kann dir noch nicht privat schreiben. Öffne einen privaten Chat mit mir: "
        "Dort wartet meine Antwort auf dich."
    )
    for command in ("/connect", "/survey results S-1", "/survey export S-1", "/queue"):
        shown = await _in_group(w, w.bob, command)
        assert shown == [hint], command
    group_calls = [c for c in fake.calls if str(c.params.get("chat_id")) == str(GROUP)]
    assert not [c for c in group_calls if c.method == "sendDocument"]
    assert not [t for t in fake.texts(GROUP) if "Dein Code" in t]
    assert fake.texts(chat_id=7) == []

    fake.start_bot(w.bob, payload="hello")
    await fake.wait_sent(1, chat_id=7)
    await w.drain()
    private = fake.texts(chat_id=7)
    # the four replies, and the news of the question that reached Bob as a host
    assert "5 Nachrichten haben auf dich gewartet" in private[0]
    assert any("Dein Code lautet" in t for t in private)
    assert any("Pizza" in t and "Ada" in t for t in private)  # who chose what
    assert [c for c in fake.sent(method="sendDocument", chat_id=7)]  # the export
    assert any("Where is the key?" in t for t in private)  # the queue


def _last_card(w: World) -> JSON:
    """The newest survey card in the group, as the bot sent it."""
    calls = [
        c
        for c in w.fake.sent(chat_id=GROUP)
        if c.result.get("reply_markup") and "Lunch" in text_of(c)
    ]
    result: JSON = calls[-1].result
    return result


# ------------------------------------------------------------------------ partner network


async def _privately(w: World, user: JSON, text: str, command: bool = False) -> list[str]:
    """What the person's private chat shows after they wrote ``text`` there."""
    chat = w.fake.private_chat(user)
    before = len(w.fake.texts(user["id"]))
    if command:
        w.fake.command(user, chat, text)
    else:
        w.fake.text(user, chat, text)
    for _ in range(200):  # an answer over the chat's allowance waits in the outbox
        if len(w.fake.texts(user["id"])) > before:
            break
        await w.drain()
        await asyncio.sleep(0.02)
    await w.fake.wait_for(lambda: len(w.fake.texts(user["id"])) > before)
    await w.drain()
    await asyncio.sleep(0.05)
    return w.fake.texts(user["id"])[before:]


async def test_partner_network_through_telegram(start_world: StartWorld) -> None:
    """No forms on Telegram: /profile edit asks field by field in the private chat (in
    Bob's German). A reference the customer confirms by button, a recommendation through
    host approval, the search by trade and region."""
    w = await start_world()
    fake = w.fake
    carol = fake.user(9, "Carol")
    for person in (w.admin, w.bob, carol):
        fake.start_bot(person)
        await fake.wait_sent(1, chat_id=person["id"])
    await w.command(w.admin, w.group, "/group new trades")
    await w.command(w.admin, w.group, "/link trades")
    await w.command(w.admin, w.group, "/trades add Elektriker")

    # typed in the group, the questions come to Bob's private chat, never into the group
    before = len(fake.texts(GROUP))
    fake.command(w.bob, w.group, "/profile edit")
    await fake.wait_for(lambda: any("1/6 Firma?" in t for t in fake.texts(7)))
    assert fake.texts(GROUP)[before:] == []
    assert "Ich frage nacheinander nach jedem Feld deines Profils." in fake.texts(7)[-1]
    assert "1/6 Firma? Jetzt leer." in fake.texts(7)[-1]
    [shown] = await _privately(w, w.bob, "Meier <b>Elektro</b>")
    assert "2/6 Gewerk? Wähle eines von: Elektriker." in shown
    [shown] = await _privately(w, w.bob, "Bäcker")
    assert "Bäcker steht nicht auf der Liste der Gewerke." in shown
    await _privately(w, w.bob, "elektriker")
    await _privately(w, w.bob, "80331 München")
    await _privately(w, w.bob, "Kabel und Licht.")
    [shown] = await _privately(w, w.bob, "meier.example")
    assert "Eine Website beginnt mit https:// oder http://." in shown
    await _privately(w, w.bob, "https://meier.example")
    [saved] = await _privately(w, w.bob, "-")
    assert saved.startswith("Dein Profil ist gespeichert.")
    assert "Meier <b>Elektro</b> (Bob)" in saved  # shown as typed, not as markup
    assert "Elektriker · 80331 München" in saved

    # a reference naming Carol: she confirms it by the button in her private chat
    [added] = await _privately(
        w, w.bob, '/reference add "Schulhaus Nord" customer telegram:9', True
    )
    assert "R-1" in added
    await fake.wait_for(lambda: any("Schulhaus Nord" in t for t in fake.texts(9)))
    [ask] = [c for c in fake.sent(chat_id=9) if "Schulhaus Nord" in text_of(c)]
    fake.press(carol, ask.result, button=0)
    [answered] = await fake.wait_sent(1, method="answerCallbackQuery")
    assert answered.params["text"] == "Thank you: R-1 now names you as its customer."

    # Carol recommends Bob; a host approves; it shows on his card
    [thanks] = await _privately(w, carol, "/recommend telegram:7 Schnell und sauber", True)
    assert "Your recommendation #1 goes to the hosts" in thanks
    [queue] = await _privately(w, w.admin, "/recommend queue", True)
    assert "Schnell und sauber" in queue
    await _privately(w, w.admin, "/recommend approve 1", True)
    [card] = await _privately(w, carol, "/profile telegram:7", True)
    assert "Schulhaus Nord — customer: Carol" in card
    assert "“Schnell und sauber” — Carol" in card

    [found] = await _privately(w, carol, "/partners elektriker 80", True)
    assert "Meier <b>Elektro</b> (Bob) — Elektriker · 80331 München — 1 recommendation" in found
    [none] = await _privately(w, carol, "/partners elektriker 10", True)
    assert "No partner matches that." in none


# ------------------------------------------------------------------------ long content


async def test_long_content_arrives_whole_in_numbered_parts(start_world: StartWorld) -> None:
    """A long German idea card in numbered parts of at most 4,096 UTF-16 units, edited
    part by part when its count changes (its status line never lost); a /groups list of
    220 groups and a 30-question survey's results privately, whole."""
    from bridge.models import PostedMessage
    from tests.long_content import (
        DESCRIPTION,
        GROUPS,
        LAST_WORDS,
        TITLE,
        assert_whole,
        make_groups,
        make_long_survey,
    )

    w = await start_world()
    fake = w.fake
    fake.start_bot(w.admin)
    await fake.wait_sent(1, chat_id=ADMIN)
    await w.command(w.admin, w.group, "/group new ideas")
    await w.command(w.admin, w.group, "/link ideas")
    await w.command(w.admin, w.group, f"/idea {TITLE} | {DESCRIPTION}")
    await w.drain()
    async with w.bridge.db.transaction() as s:
        [posted] = (await s.execute(select(PostedMessage))).scalars().all()
    ids = [int(i) for i in posted.platform_message_id.split()]
    assert len(ids) == 2

    def shown() -> list[JSON]:
        return [fake.messages[(GROUP, i)] for i in ids]

    assert_whole([m["text"] for m in shown()], [TITLE, *LAST_WORDS, "0 supporters"])
    assert "reply_markup" not in shown()[0] and "reply_markup" in shown()[-1]

    fake.press(w.bob, shown()[-1], button=0)
    await fake.wait_sent(1, method="answerCallbackQuery")
    await w.drain()
    assert_whole([m["text"] for m in shown()], [TITLE, *LAST_WORDS, "1 supporter"])
    await w.command(w.admin, w.group, "/status I-1 shortlisted", expect=1)
    await w.drain()
    assert_whole([m["text"] for m in shown()], [TITLE, *LAST_WORDS, "shortlisted"])

    await make_groups(w.bridge, AccountRef(platform="telegram", user_id=str(ADMIN)))
    before = len(fake.texts(ADMIN))
    fake.command(w.admin, w.group, "/groups")
    await fake.wait_for(lambda: any(f"{GROUPS[-1]}" in t for t in fake.texts(ADMIN)[before:]))
    await asyncio.sleep(0.1)
    texts = fake.texts(ADMIN)[before:]
    assert len(texts) > 1
    assert_whole(texts, [GROUPS[0], GROUPS[-1]])

    await make_long_survey(w.bridge, "ideas")
    await w.drain()
    before = len(fake.texts(ADMIN))
    fake.command(w.admin, w.group, "/survey results S-1")
    await fake.wait_for(lambda: any("Frage 30:" in t for t in fake.texts(ADMIN)[before:]))
    await asyncio.sleep(0.1)
    texts = fake.texts(ADMIN)[before:]
    assert len(texts) > 1
    assert_whole(texts, ["Frage 1:", "Frage 30:", "Antwort 30.5"])


async def test_delivery_keeps_telegrams_limits_per_chat(
    make_bridge: Any, fake: FakeTelegram
) -> None:
    """Issue 12: with shaping on, the worker keeps about one message a second per chat
    before Telegram refuses anything (the fake enforces it); two chats go side by side;
    nothing is dropped and each chat's order is kept."""
    fake.group(GROUP, "Idea room")
    fake.group(-4002, "Second room")
    fake.enforce_limits()
    bridge = await make_bridge(
        telegram={"token": TOKEN, "base_url": fake.base_url},
        community={"admins": [f"telegram:{ADMIN}"]},
        delivery={"shaping": True, "limits": {}},  # Telegram's own limits
    )
    adapter = TelegramAdapter(bridge)
    bridge.add_adapter(adapter)
    await adapter.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(bridge.outbox.run(stop))
    try:
        async with bridge.db.transaction() as s:
            for n in range(3):
                for chat in (GROUP, -4002):
                    await bridge.outbox.post(
                        s, f"telegram:{chat}", Message(parts=(Text(text=f"{chat} #{n}"),))
                    )
        await fake.wait_for(lambda: len(fake.texts(GROUP)) + len(fake.texts(-4002)) == 6, 20)
    finally:
        stop.set()
        bridge.outbox.kick()
        await worker
        await adapter.stop()
    assert fake.limit_refusals == []  # no allowance exceeded: nothing had to be refused
    assert fake.texts(GROUP) == [f"{GROUP} #{n}" for n in range(3)]
    assert fake.texts(-4002) == [f"-4002 #{n}" for n in range(3)]
